import { randomUUID } from 'node:crypto';
import { api, bearer } from '../support/client';
import { record, sample, scrape, signUp, startProxiedStack, type ProxiedStack } from './harness';
import { eventually } from '../support/eventually';
import { TEST_LABS } from '../support/test-labs';

/**
 * Redis away: the catalog serves from MySQL (degraded, and says so in its metrics), the gateway's
 * rate limiter fails open, nothing crashes; once Redis is back the cache hits resume by themselves.
 */
jest.setTimeout(180_000);

const CATALOGS = ['catalog-1', 'catalog-2'];
let lab: ProxiedStack;

beforeAll(async () => {
  lab = await startProxiedStack({ basePort: TEST_LABS['redis-cut'].basePort });
});

afterAll(async () => {
  await lab?.stop();
});

const counters = async () => {
  const gateway = await scrape(lab.stack.gateway);
  const catalogs = await Promise.all(CATALOGS.map((name) => scrape(lab.stack.instance(name).url)));
  const cache = (result: string) =>
    catalogs.reduce((sum, text) => sum + (sample(text, 'cache_requests_total', { result }) ?? 0), 0);
  return {
    hit: cache('hit'),
    error: cache('error'),
    backendUp: catalogs.map((text) => sample(text, 'cache_backend_up')),
    limiterErrors: sample(gateway, 'gateway_rate_limiter_errors_total') ?? 0,
  };
};

/**
 * Whether the gateway's limiter counts, seen from outside: it sends the RateLimit-* headers only
 * when Redis answered its count, and lets the request through without them when it failed open.
 */
const limiterCounts = async () =>
  (await api(lab.stack.gateway, 'GET', '/api/products/1')).headers['ratelimit-limit'] !== undefined;

/** A burst of what a shopper does: product pages (cached when Redis is there), a list page. */
async function browse(rounds: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < rounds; i += 1) {
    statuses.push((await api(lab.stack.gateway, 'GET', `/api/products/${(i % 10) + 1}`)).status);
    statuses.push((await api(lab.stack.gateway, 'GET', '/api/products?page=1&pageSize=5')).status);
  }
  return statuses;
}

it('degrades to MySQL, fails open on rate limits, and resumes caching without a restart', async () => {
  const { stack, proxies } = lab;
  const customer = await signUp(stack.gateway, 'redis-cut');
  const admin = await api(stack.gateway, 'POST', '/api/auth/login', {
    email: stack.secrets.adminEmail,
    password: stack.secrets.adminPassword,
  });
  const adminToken = (admin.json as { token: string }).token;
  // Every Redis client connected before the cut (readiness of a stack does not wait for the gateway's).
  await eventually('the gateway limiter counting', 30_000, async () => ((await limiterCounts()) ? true : undefined));
  await browse(5);
  const before = await counters();
  expect(before.backendUp).toEqual([1, 1]);

  await proxies.redis.cut();
  const cutAt = Date.now();
  // The fault in force everywhere before the "during" requests: both catalogs see Redis gone and
  // the gateway's limiter lets requests through uncounted.
  const down = await eventually(
    'cache_backend_up 0 on both replicas and the limiter failing open',
    30_000,
    async () => {
      const now = await counters();
      return now.backendUp.every((up) => up === 0) && !(await limiterCounts()) ? now : undefined;
    },
  );
  const detectMs = Date.now() - cutAt;
  const statuses = await browse(50);
  const checkout = await api(
    stack.gateway,
    'POST',
    '/api/orders',
    { items: [{ productId: 3, quantity: 1 }] },
    { ...bearer(customer.token), 'idempotency-key': `redis-cut-${randomUUID()}` },
  );
  // An admin's change reaches MySQL; the cache it cannot invalidate expires on its TTL.
  const update = await api(stack.gateway, 'PUT', '/api/products/7', { priceCents: 1234 }, bearer(adminToken));
  const during = await counters();

  expect(statuses.filter((status) => status !== 200)).toEqual([]);
  expect(checkout.status).toBe(201);
  expect(update.status).toBe(200);
  // 100 pages read, each one cache lookup failed over to MySQL and one request let through uncounted.
  expect(during.error - down.error).toBeGreaterThanOrEqual(100);
  expect(during.limiterErrors - down.limiterErrors).toBeGreaterThanOrEqual(100);
  for (const instance of stack.instances) expect(instance.child.exitCode).toBeNull();

  await proxies.redis.restore();
  const restoredAt = Date.now();
  // Back means: both catalogs connected and hitting again, and the gateway's limiter counting.
  const back = await eventually('the cache connected and hitting again, the limiter counting', 30_000, async () => {
    await browse(1);
    const now = await counters();
    const cached = now.backendUp.every((up) => up === 1) && now.hit > during.hit;
    return cached && (await limiterCounts()) ? now : undefined;
  });
  const recoveryMs = Date.now() - restoredAt;
  // From then on, no more fail-open: every request is counted, and pages come from the cache.
  await browse(5);
  const after = await counters();
  expect(after.limiterErrors).toBe(back.limiterErrors);
  expect(after.hit).toBeGreaterThan(back.hit);
  expect(after.error).toBe(back.error);
  for (const instance of stack.instances) expect(instance.child.exitCode).toBeNull();
  record('redis-cut', {
    requestsDuringCut: statuses.length + 2,
    failedRequestsDuringCut: statuses.filter((status) => status !== 200).length,
    backendDownDetectedMs: detectMs,
    cacheErrorsCounted: during.error - down.error,
    rateLimiterFailOpens: during.limiterErrors - down.limiterErrors,
    recoveryMs,
    failOpensAfterRecovery: after.limiterErrors - back.limiterErrors,
    processExits: 0,
  });
});
