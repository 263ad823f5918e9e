import { createHash, randomUUID } from 'node:crypto';
import { createRedis, type Redis } from '@shopnow/kit/redis';
import { REDIS_URL } from '../../../test/support/backends';
import { bearer, log, metric, signToken, startDouble, startGateway, type Double, type Running } from './gateway';
import { eventually } from '../../../test/support/eventually';

describe('rate limiting in Redis', () => {
  const keyPrefix = `test:gateway:${randomUUID()}`;
  let redis: Redis;
  let catalog: Double;
  let gateway: Running;

  beforeAll(async () => {
    redis = createRedis(REDIS_URL, log);
    catalog = await startDouble();
    // A window much longer than the test, so that no request falls into a fresh window by chance.
    gateway = await startGateway({
      urls: { catalog: [catalog.url] },
      rateLimit: { points: 3, windowSeconds: 60, keyPrefix },
    });
  });
  afterAll(async () => {
    await gateway.stop();
    await catalog.close();
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  const get = (headers: Record<string, string> = {}) => fetch(`${gateway.base}/api/products`, { headers });

  async function exhaust(headers: Record<string, string>): Promise<Response> {
    for (let i = 1; i <= 3; i += 1) {
      const res = await get(headers);
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-remaining')).toBe(String(3 - i));
    }
    return get(headers);
  }

  it('answers 429 with Retry-After past the limit, per user, API key and address separately', async () => {
    const alice = bearer(await signToken({ sub: '101', roles: ['customer'] }));
    const bob = bearer(await signToken({ sub: '102', roles: ['customer'] }));

    const limited = await exhaust(alice);
    expect(limited.status).toBe(429);
    expect(await limited.json()).toEqual({ error: { code: 'RATE_LIMITED', message: expect.any(String) } });
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect(limited.headers.get('ratelimit-limit')).toBe('3');
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    expect(await metric(gateway.base, 'gateway_rate_limited_total{key_type="user",scope="client"}')).toBe(1);

    // Bob is counted on his own; so are API keys, and anonymous callers by address.
    expect((await get(bob)).status).toBe(200);
    expect((await exhaust({ 'x-api-key': 'key-one' })).status).toBe(429);
    expect((await get({ 'x-api-key': 'key-two' })).status).toBe(200);
    expect(await metric(gateway.base, 'gateway_rate_limited_total{key_type="api_key",scope="client"}')).toBe(1);
    expect((await exhaust({})).status).toBe(429);
    expect(await metric(gateway.base, 'gateway_rate_limited_total{key_type="ip",scope="client"}')).toBe(1);
    expect((await get(bob)).status).toBe(200);
  });

  it('keeps API keys out of Redis: only a hash of them names the counter', async () => {
    await get({ 'x-api-key': 'very-secret-api-key' });
    const keys = await redis.keys(`${keyPrefix}*`);
    expect(keys.some((key) => key.includes('very-secret-api-key'))).toBe(false);
    expect(keys.filter((key) => /:key:[0-9a-f]{16}$/.test(key)).length).toBeGreaterThan(0);
    expect(keys.some((key) => key.endsWith(':user:101'))).toBe(true);
  });
});

describe("a route's shared budget and a client's own limit", () => {
  const LAB_TOKEN = 'a-lab-token-for-the-gateway-tests';
  let catalog: Double;
  let gateway: Running;

  beforeAll(async () => {
    catalog = await startDouble();
    gateway = await startGateway({
      urls: { catalog: [catalog.url] },
      labToken: LAB_TOKEN,
      rateLimit: {
        points: 3,
        windowSeconds: 60,
        keyPrefix: `test:gateway:${randomUUID()}`,
        routeBudgets: { '/api/products': 4 },
      },
    });
    // Counted only once the gateway's Redis connection is up (before that it fails open).
    await eventually('the rate limiter to answer with its headers', 5_000, async () =>
      (await get('/api/products/search', 'warm-up')).headers.has('ratelimit-limit'),
    );
  });
  afterAll(async () => {
    await gateway.stop();
    await catalog.close();
  });

  const get = (path: string, apiKey: string) => fetch(`${gateway.base}${path}`, { headers: { 'x-api-key': apiKey } });
  const clientOf = (apiKey: string) => `key:${createHash('sha256').update(apiKey).digest('hex').slice(0, 16)}`;
  const admin = (method: string, path: string, body?: unknown, token = LAB_TOKEN) =>
    fetch(`${gateway.base}/admin/rate-limits${path}`, {
      method,
      headers: { 'x-lab-token': token, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('refuses every client once the route budget is spent, after each client took its own limit', async () => {
    for (let i = 0; i < 3; i += 1) expect((await get('/api/products', 'greedy')).status).toBe(200);
    // Over its own limit: refused before it touches the shared budget.
    expect((await get('/api/products', 'greedy')).status).toBe(429);
    expect((await get('/api/products', 'modest')).status).toBe(200);
    const refused = await get('/api/products', 'innocent');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await get('/api/products/search', 'innocent')).status).toBe(200);
    expect(await metric(gateway.base, 'gateway_rate_limited_total{key_type="api_key",scope="client"}')).toBe(1);
    expect(await metric(gateway.base, 'gateway_rate_limited_total{key_type="api_key",scope="route"}')).toBe(1);
  });

  it('gives one client a limit of its own at runtime, behind the lab token; 0 blocks it', async () => {
    const client = clientOf('partner');
    expect((await admin('PUT', `/clients/${client}`, { points: 0 }, 'wrong-token')).status).toBe(401);
    expect((await admin('PUT', '/clients/partner', { points: 0 })).status).toBe(400);
    expect((await admin('PUT', `/clients/${client}`, { points: -1 })).status).toBe(400);
    expect((await get('/api/products/search', 'partner')).status).toBe(200);

    expect((await admin('PUT', `/clients/${client}`, { points: 0 })).status).toBe(200);
    expect(await (await admin('GET', '')).json()).toEqual({ clients: { [client]: 0 } });
    expect((await get('/api/products/search', 'partner')).status).toBe(429);
    expect((await get('/api/products/search', 'someone-else')).status).toBe(200);

    expect(await (await admin('DELETE', `/clients/${client}`)).json()).toEqual({ removed: true });
    expect((await get('/api/products/search', 'partner')).status).toBe(200);
  });
});

describe('rate limiting without Redis', () => {
  let catalog: Double;
  let gateway: Running;

  beforeAll(async () => {
    catalog = await startDouble();
    gateway = await startGateway({
      urls: { catalog: [catalog.url] },
      redisUrl: 'redis://127.0.0.1:1',
      rateLimit: { points: 1, windowSeconds: 60, keyPrefix: `test:gateway:${randomUUID()}` },
    });
  });
  afterAll(async () => {
    await gateway.stop();
    await catalog.close();
  });

  // How fast the fallback is belongs to the benchmarks (docs/benchmarks.md), not to a timed test.
  it('fails open: requests pass and the errors are counted', async () => {
    for (let i = 0; i < 5; i += 1) expect((await fetch(`${gateway.base}/api/products`)).status).toBe(200);
    expect(await metric(gateway.base, 'gateway_rate_limiter_errors_total')).toBe(5);
    expect((await fetch(`${gateway.base}/health/ready`)).status).toBe(200);
  });
});
