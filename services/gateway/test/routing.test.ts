import http from 'node:http';
import { execFileSync } from 'node:child_process';
import {
  bearer,
  echoOf,
  errorCodeOf,
  signToken,
  startDouble,
  startGateway,
  type Double,
  type Running,
  type UpstreamTable,
} from './gateway';

describe('gateway routing (upstreams are node:http doubles)', () => {
  let auth: Double;
  let catalog: Double;
  let orders: Double;
  let gateway: Running;
  let customer: Record<string, string>;
  let admin: Record<string, string>;

  beforeAll(async () => {
    [auth, catalog, orders] = await Promise.all([startDouble(), startDouble(), startDouble()]);
    gateway = await startGateway({ urls: { auth: [auth.url], catalog: [catalog.url], orders: [orders.url] } });
    customer = bearer(await signToken({ sub: '42', roles: ['customer'] }));
    admin = bearer(await signToken({ sub: '7', roles: ['customer', 'admin'] }));
  });
  afterAll(async () => {
    await gateway.stop();
    await Promise.all([auth.close(), catalog.close(), orders.close()]);
  });

  it.each([
    ['POST', '/api/auth/register', () => auth, '/auth/register'],
    ['POST', '/api/auth/login', () => auth, '/auth/login'],
    ['GET', '/api/products?page=2&pageSize=5', () => catalog, '/products?page=2&pageSize=5'],
    ['GET', '/api/products/search?q=lamp', () => catalog, '/products/search?q=lamp'],
    ['GET', '/api/products/12', () => catalog, '/products/12'],
  ])('forwards public %s %s without /api', async (method, path, double, servicePath) => {
    const res = await fetch(`${gateway.base}${path}`, { method, body: method === 'POST' ? '{}' : undefined });
    expect(res.status).toBe(200);
    expect((await echoOf(res)).url).toBe(servicePath);
    expect(double().seen.at(-1)?.url).toBe(servicePath);
    expect(res.headers.get('x-upstream-instance')).toBe(new URL(double().url).host);
  });

  it.each([
    ['GET', '/api/auth/me'],
    ['POST', '/api/products'],
    ['DELETE', '/api/products/3'],
    ['GET', '/api/orders'],
    ['POST', '/api/orders'],
    ['GET', '/api/orders/5b1e7f3c'],
  ])('asks for a signed-in user on %s %s', async (method, path) => {
    const before = auth.seen.length + catalog.seen.length + orders.seen.length;
    const anonymous = await fetch(`${gateway.base}${path}`, { method });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect(await anonymous.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
    expect(auth.seen.length + catalog.seen.length + orders.seen.length).toBe(before);

    const signedIn = await fetch(`${gateway.base}${path}`, { method, headers: customer });
    expect(signedIn.status).toBe(200);
    const forwarded = (await echoOf(signedIn)).headers;
    expect(forwarded).toMatchObject({ 'x-user-id': '42', 'x-user-roles': 'customer' });
  });

  it('lets only admins change a product', async () => {
    const asCustomer = await fetch(`${gateway.base}/api/products/3`, { method: 'PUT', headers: customer, body: '{}' });
    expect(asCustomer.status).toBe(403);
    expect(await errorCodeOf(asCustomer)).toBe('FORBIDDEN');
    const anonymous = await fetch(`${gateway.base}/api/products/3`, { method: 'PUT', body: '{}' });
    expect(anonymous.status).toBe(401);
    const asAdmin = await fetch(`${gateway.base}/api/products/3`, { method: 'PUT', headers: admin, body: '{}' });
    expect(asAdmin.status).toBe(200);
    expect((await echoOf(asAdmin)).headers).toMatchObject({ 'x-user-id': '7', 'x-user-roles': 'customer,admin' });
  });

  it.each(['/api/nothing', '/api', '/api/products/1/reviews', '/products', '/api/orders/1/2', '/api/auth'])(
    'answers %s with its own 404 without calling anyone',
    async (path) => {
      const before = auth.seen.length + catalog.seen.length + orders.seen.length;
      const res = await fetch(`${gateway.base}${path}`, { headers: customer });
      expect(res.status).toBe(404);
      expect(await errorCodeOf(res)).toBe('ROUTE_NOT_FOUND');
      expect(auth.seen.length + catalog.seen.length + orders.seen.length).toBe(before);
    },
  );

  it('drops identity headers a client forges, on public routes too, and sets its own', async () => {
    const forged = { 'x-user-id': '1', 'x-user-roles': 'admin', 'x-user-anything': 'x' };
    const publicRoute = await fetch(`${gateway.base}/api/products`, { headers: forged });
    const seenPublic = (await echoOf(publicRoute)).headers;
    expect(Object.keys(seenPublic).filter((name) => name.startsWith('x-user-'))).toEqual([]);

    const userRoute = await fetch(`${gateway.base}/api/orders`, { headers: { ...forged, ...customer } });
    const seenUser = (await echoOf(userRoute)).headers;
    expect(seenUser['x-user-id']).toBe('42');
    expect(seenUser['x-user-roles']).toBe('customer');
    expect(seenUser['x-user-anything']).toBeUndefined();

    const forgedAdmin = await fetch(`${gateway.base}/api/products/3`, {
      method: 'PUT',
      headers: { ...forged, ...customer },
    });
    expect(forgedAdmin.status).toBe(403);
  });

  it('names a valid token on a public route and ignores an invalid one', async () => {
    const named = await fetch(`${gateway.base}/api/products`, { headers: customer });
    expect((await echoOf(named)).headers['x-user-id']).toBe('42');
    const ignored = await fetch(`${gateway.base}/api/products`, { headers: bearer('not-a-token') });
    expect(ignored.status).toBe(200);
    expect((await echoOf(ignored)).headers['x-user-id']).toBeUndefined();
  });

  it('drops hop-by-hop request headers and says who the client is', async () => {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(`${gateway.base}/api/products`, {
        headers: {
          connection: 'keep-alive, x-per-hop',
          'x-per-hop': 'drop me',
          'keep-alive': 'timeout=5',
          te: 'trailers',
          'proxy-authorization': 'Basic c2VjcmV0',
          'x-forwarded-for': '203.0.113.9',
          'x-request-id': 'kept',
        },
      });
      req.once('response', resolve).once('error', reject).end();
    });
    const body = JSON.parse(
      await new Promise<string>((resolve) => {
        let text = '';
        res
          .setEncoding('utf8')
          .on('data', (chunk: string) => (text += chunk))
          .on('end', () => resolve(text));
      }),
    );
    for (const name of ['x-per-hop', 'keep-alive', 'te', 'proxy-authorization'])
      expect(body.headers[name]).toBeUndefined();
    expect(body.headers.host).toBe(new URL(catalog.url).host);
    expect(body.headers['x-request-id']).toBe('kept');
    expect(body.headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('forwards bodies byte for byte, even ones that are not JSON', async () => {
    for (const body of ['{ "spaced" :  1 }', '{"broken":', 'plain text']) {
      const res = await fetch(`${gateway.base}/api/orders`, {
        method: 'POST',
        headers: { ...customer, 'content-type': 'application/json', 'idempotency-key': 'k-1' },
        body,
      });
      expect(res.status).toBe(200);
      const seen = await echoOf(res);
      expect(seen.body).toBe(body);
      expect(seen.headers['idempotency-key']).toBe('k-1');
    }
  });

  it('refuses bodies over 64 KiB, declared or streamed, and forwards one of exactly 64 KiB', async () => {
    const before = orders.seen.length;
    const declared = await fetch(`${gateway.base}/api/orders`, {
      method: 'POST',
      headers: customer,
      body: 'x'.repeat(64 * 1024 + 1),
    });
    expect(declared.status).toBe(413);
    expect(await errorCodeOf(declared)).toBe('PAYLOAD_TOO_LARGE');

    const chunks = [Buffer.alloc(40 * 1024, 'a'), Buffer.alloc(40 * 1024, 'b')];
    const streamed = await fetch(`${gateway.base}/api/orders`, {
      method: 'POST',
      headers: customer,
      body: new ReadableStream({
        start(controller) {
          chunks.forEach((chunk) => controller.enqueue(chunk));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(orders.seen.length).toBe(before);

    const exact = await fetch(`${gateway.base}/api/orders`, {
      method: 'POST',
      headers: customer,
      body: 'y'.repeat(64 * 1024),
    });
    expect(exact.status).toBe(200);
    expect(orders.seen.at(-1)?.body.length).toBe(64 * 1024);
  });

  it('shows its upstream table to anyone', async () => {
    const res = await fetch(`${gateway.base}/gateway/upstreams`);
    expect(res.status).toBe(200);
    const { upstreams } = (await res.json()) as UpstreamTable;
    expect(upstreams.map((u) => u.name)).toEqual(['auth', 'catalog', 'orders']);
    expect(upstreams[1]).toEqual({
      name: 'catalog',
      replicas: [{ url: catalog.url, instance: new URL(catalog.url).host, healthy: true, consecutiveFailures: 0 }],
      circuit: 'closed',
    });
  });

  it('exposes metrics that promtool accepts, labelled by route template', async () => {
    const text = await (await fetch(`${gateway.base}/metrics`)).text();
    expect(() => execFileSync('promtool', ['check', 'metrics'], { input: text, stdio: 'pipe' })).not.toThrow();
    expect(text).toContain('route="/api/products/:id"');
    expect(text).not.toContain('/api/products/12');
    for (const name of [
      'gateway_upstream_requests_total',
      'gateway_upstream_request_duration_seconds_bucket',
      'gateway_upstream_healthy',
      'gateway_retries_total',
      'gateway_circuit_state',
      'gateway_circuit_transitions_total',
      'gateway_rate_limited_total',
      'gateway_rate_limiter_errors_total',
    ]) {
      expect(text).toMatch(new RegExp(`^${name}[{ ]`, 'm'));
    }
  });
});
