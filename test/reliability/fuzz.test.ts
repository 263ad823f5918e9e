import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { api, send } from '../support/client';
import { record, rssOf, sample, signUp, sleep, startProxiedStack, type ProxiedStack } from './harness';

/**
 * The edge, fuzzed: a seeded fast-check generator sends 10,000 malformed or hostile requests
 * (methods, paths, headers, encodings, bodies, sizes, JWT variants) to the gateway, 16 at a time.
 * None may be answered 5xx, no process may exit, and every process's memory must come back near
 * where it started.
 */
jest.setTimeout(240_000);

const SEED = 20_261_124;
const REQUESTS = 10_000;
const CONCURRENCY = 16;
/** "Near": at most 30 MB or 25% above, whichever is larger. */
const SLACK = (before: number) => Math.max(30 * 1024 * 1024, before * 0.25);

let lab: ProxiedStack;

beforeAll(async () => {
  lab = await startProxiedStack({ basePort: 21580 });
});

afterAll(async () => {
  await lab?.stop();
});

const now = () => Math.floor(Date.now() / 1000);

/** Tokens a client could send: valid ones and every way one can be wrong. */
async function tokens(secret: string, customerToken: string, adminToken: string): Promise<string[]> {
  const key = (s: string) => new TextEncoder().encode(s);
  const sign = (claims: Record<string, unknown>, alg = 'HS256', s = secret) =>
    new SignJWT({ roles: ['customer'], ...claims })
      .setProtectedHeader({ alg })
      .setSubject(String(claims.sub ?? '1'))
      .setIssuer(String(claims.iss ?? 'shopnow-auth'))
      .setAudience(String(claims.aud ?? 'shopnow'))
      .setExpirationTime(Number(claims.exp ?? now() + 600))
      .sign(key(s));
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return [
    customerToken,
    adminToken,
    await sign({}, 'HS256', 'not-the-secret-but-long-enough-to-sign-with'),
    await sign({}, 'HS512'),
    await sign({ exp: now() - 3_600 }),
    await sign({ iss: 'someone-else' }),
    await sign({ aud: 'another-shop' }),
    await sign({ sub: '-1' }),
    await sign({ sub: '99999999999999999999' }),
    await sign({ roles: ['root'] }),
    await sign({ roles: 'admin' }),
    `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: '1', roles: ['admin'], exp: now() + 600 })}.`,
    `${customerToken.split('.').slice(0, 2).join('.')}.${'A'.repeat(43)}`,
    'a.b.c',
    '....',
    'x'.repeat(8_000),
  ];
}

const printable = fc.string({ unit: fc.constantFrom(...'abcXYZ019-_.~!$&\'()*+,;=:@%/?#[]{}<>"\\|^`'.split('')) });
const anyText = fc.string({ unit: 'binary', maxLength: 200 });

function requests(ctx: { tokens: string[]; orderIds: string[] }) {
  const segment = fc.oneof(
    fc.integer({ min: -2, max: 2_000_000_000_000 }).map(String),
    anyText.map(encodeURIComponent),
    printable,
    fc.constantFrom('..', '%2e%2e', '%00', '%', '%zz', 'search', ' ', ...ctx.orderIds, "1' OR '1'='1", '1e309'),
    fc.nat(4_000).map((n) => 'a'.repeat(n)),
  );
  const query = fc
    .dictionary(fc.constantFrom('page', 'pageSize', 'q', 'orderId', 'x', '__proto__'), segment, { maxKeys: 3 })
    .map((q) =>
      Object.entries(q)
        .map(([k, v]) => `${k}=${v}`)
        .join('&'),
    );
  const path = fc
    .tuple(
      fc.constantFrom(
        '/api/products',
        '/api/products/search',
        '/api/products/',
        '/api/orders',
        '/api/orders/',
        '/api/auth/login',
        '/api/auth/register',
        '/api/auth/me',
        '/api/',
        '/api//products',
        '/gateway/upstreams',
        '/admin/faults/latency',
        '/metrics',
        '/',
        '',
      ),
      fc.option(segment, { nil: '' }),
      fc.option(query, { nil: '' }),
    )
    .map(([base, seg, q]) => `${base}${seg && !base.endsWith('/') ? '/' : ''}${seg}${q ? `?${q}` : ''}`)
    .map((p) => (p.startsWith('/') ? p : `/${p}`))
    // What node:http would refuse to put on the wire (spaces, control and non-Latin-1 characters) is percent-encoded.
    .map((p) => p.replace(/[^\u0021-\u00ff]/g, encodeURIComponent));
  const body = fc.oneof(
    fc.json({ maxDepth: 4 }),
    fc.jsonValue().map((value) => JSON.stringify({ items: value })),
    fc
      .record({
        items: fc.array(
          fc.record({ productId: fc.oneof(fc.integer(), fc.double(), fc.string()), quantity: fc.integer() }),
        ),
      })
      .map((value) => JSON.stringify(value)),
    fc
      .record({ email: fc.oneof(fc.emailAddress(), anyText), password: anyText, name: anyText })
      .map((value) => JSON.stringify(value)),
    anyText,
    fc.constantFrom('{"a":', '[]'.repeat(5_000), '{"__proto__":{"admin":true}}', '\u0000', '1e309'),
    fc.nat(100_000).map((n) => `{"name":"${'x'.repeat(n)}"}`),
    fc.uint8Array({ maxLength: 2_000 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  );
  const headers = fc.record(
    {
      'content-type': fc.constantFrom(
        'application/json',
        'application/json; charset=utf-16',
        'application/json; charset=latin1',
        'text/plain',
        'multipart/form-data; boundary=x',
        'application/x-www-form-urlencoded',
        '*/*',
        ';;;',
      ),
      'content-encoding': fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-unknown'),
      authorization: fc.oneof(
        fc.constantFrom(...ctx.tokens).map((t) => `Bearer ${t}`),
        fc.constantFrom('Bearer', 'Bearer ', 'Basic YWRtaW46YWRtaW4=', 'bearer  x', 'Token abc'),
        printable.map((t) => `Bearer ${t}`),
      ),
      'idempotency-key': fc.oneof(
        fc.uuid(),
        printable,
        fc.nat(1_000).map((n) => 'k'.repeat(n)),
      ),
      'x-user-id': fc.constantFrom('1', '0', 'admin'),
      'x-user-roles': fc.constantFrom('admin', 'customer,admin'),
      'x-lab-token': printable,
      'x-forwarded-for': fc.constantFrom('10.0.0.1', '::1', 'garbage, 1.2.3.4'),
      accept: fc.constantFrom('application/json', 'application/openmetrics-text', 'text/html', '*/*'),
      'accept-encoding': fc.constantFrom('gzip', 'br', 'identity;q=0'),
      'transfer-encoding': fc.constantFrom('chunked'),
      expect: fc.constantFrom('100-continue'),
    },
    { requiredKeys: [] },
  );
  return fc.record({
    method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'FOO'),
    path,
    headers,
    body: fc.option(body, { nil: undefined, freq: 3 }),
  });
}

it('answers 10,000 fuzzed requests without a 5xx, an exit, or memory that stays grown', async () => {
  const { stack } = lab;
  const customer = await signUp(stack.gateway, 'fuzz');
  const admin = await api(stack.gateway, 'POST', '/api/auth/login', {
    email: stack.secrets.adminEmail,
    password: stack.secrets.adminPassword,
  });
  const adminToken = (admin.json as { token: string }).token;
  const placed = await api(
    stack.gateway,
    'POST',
    '/api/orders',
    { items: [{ productId: 2, quantity: 1 }] },
    { authorization: `Bearer ${customer.token}`, 'idempotency-key': randomUUID() },
  );
  const ctx = {
    tokens: await tokens(stack.secrets.jwtSecret, customer.token, adminToken),
    orderIds: [(placed.json as { order: { id: string } }).order.id],
  };
  const cases = fc.sample(requests(ctx), { seed: SEED, numRuns: REQUESTS });
  const statuses = new Map<number, number>();
  const serverErrors: string[] = [];
  const transportErrors: string[] = [];
  let earlyResets = 0;
  /** Sends `batch`, CONCURRENCY at a time, counting every answer. */
  async function run(batch: typeof cases): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < batch.length) {
          const request = batch[next++];
          // Errors from node:http come from outside Jest's sandbox, so `instanceof Error` would miss them.
          const reply = await send(stack.gateway, request.method, request.path, request).catch(
            (err: { code?: string; message?: string }) => ({ failed: `${err.code} ${err.message}` }),
          );
          // A large body (here > 16 KiB) on a request refused before its body is read (405, 401, 404,
          // 413) is answered early and the connection closed: the client, still writing, may see a
          // reset instead of the answer. Counted apart; any other reset is a failure.
          if ('failed' in reply && Buffer.byteLength(String(request.body ?? '')) > 16 * 1024) {
            earlyResets += 1;
            continue;
          }
          if ('failed' in reply) {
            transportErrors.push(
              `${request.method} ${request.path.slice(0, 80)} (${String(request.body ?? '').length} bytes): ${reply.failed}`,
            );
            continue;
          }
          statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
          if (reply.status >= 500)
            serverErrors.push(
              `${reply.status} ${request.method} ${request.path.slice(0, 120)} ${JSON.stringify(request.headers).slice(0, 300)} body=${String(request.body).slice(0, 120)} -> ${reply.text.slice(0, 200)}`,
            );
        }
      }),
    );
  }
  /** RSS from /proc and V8's used heap from /metrics, per process, after a pause that lets sockets close and GC run. */
  async function memory() {
    await sleep(5_000);
    return Object.fromEntries(
      await Promise.all(
        stack.instances.map(async (i) => {
          const heap = sample((await send(i.url, 'GET', '/metrics')).text, 'nodejs_heap_size_used_bytes') ?? 0;
          return [i.name, { rss: rssOf(Number(i.child.pid)), heap }] as const;
        }),
      ),
    );
  }

  // A short warm-up first, so the baseline is a process that has served requests, not a cold one.
  await run(cases.slice(0, 200));
  const before = await memory();
  const started = Date.now();
  await run(cases);
  const durationMs = Date.now() - started;
  const after = await memory();
  // Half the cases again: a leak grows with every request; a process that only grew into its
  // working set (V8 and malloc keep pages they have used) stays where the first pass left it.
  await run(cases.slice(0, REQUESTS / 2));
  const again = await memory();

  const mb = (bytes: number) => Math.round(bytes / 1024 / 102.4) / 10;
  const table = (m: typeof before, key: 'rss' | 'heap') =>
    Object.fromEntries(Object.entries(m).map(([name, v]) => [name, mb(v[key])]));
  const names = Object.keys(before);
  const heapGrown = names.filter((n) => after[n].heap - before[n].heap > SLACK(before[n].heap));
  const rssNotNearBaseline = names.filter((n) => after[n].rss - before[n].rss > SLACK(before[n].rss));
  const rssStillGrowing = names.filter((n) => again[n].rss - after[n].rss > SLACK(after[n].rss));

  record('fuzz', {
    seed: SEED,
    requests: REQUESTS + REQUESTS / 2 + 200,
    durationMsFirst10k: durationMs,
    responsesByStatus: Object.fromEntries([...statuses].sort(([a], [b]) => a - b)),
    responses5xx: serverErrors.length,
    transportErrors: transportErrors.length,
    resetsOfLargeBodiesAnsweredEarly: earlyResets,
    processExits: stack.instances.filter((i) => i.child.exitCode !== null).length,
    rssMbBefore: table(before, 'rss'),
    rssMbAfter10k: table(after, 'rss'),
    rssMbAfter15k: table(again, 'rss'),
    heapMbBefore: table(before, 'heap'),
    heapMbAfter10k: table(after, 'heap'),
    rssNotNearBaseline,
    nearMeans: 'at most max(30 MB, 25%) above, 5 s after the run',
  });
  expect(cases.length).toBeGreaterThanOrEqual(10_000);
  expect(serverErrors.slice(0, 20)).toEqual([]);
  expect(transportErrors.slice(0, 20)).toEqual([]);
  for (const instance of stack.instances)
    expect([instance.name, instance.child.exitCode]).toEqual([instance.name, null]);
  expect(heapGrown).toEqual([]);
  expect(rssStillGrowing).toEqual([]);
});
