import http, { type ServerResponse } from 'node:http';
import { createFaults } from '@shopnow/kit';
import {
  answerAfter,
  bearer,
  errorCodeOf,
  metric,
  NOWHERE,
  signToken,
  startDouble,
  startGateway,
  upstreamTable,
  type Double,
  type Running,
} from './gateway';
import { eventually } from '../../../test/support/eventually';

/** A double that always answers `code`, with a body the gateway must pass on untouched. */
const answering = (code: number) => (_req: unknown, res: ServerResponse) =>
  void res.writeHead(code).end(JSON.stringify({ error: { code: 'UPSTREAM_SAYS', message: String(code) } }));

let customer: Record<string, string>;
beforeAll(async () => {
  customer = bearer(await signToken());
});

describe('timeouts', () => {
  // Far slower than the gateway's 150 ms, so that answering in time can only mean it gave up waiting.
  const UPSTREAM_DELAY_MS = 3_000;
  let slow: Double;
  let gateway: Running;
  beforeAll(async () => {
    slow = await startDouble(answerAfter(UPSTREAM_DELAY_MS));
    gateway = await startGateway({
      urls: { orders: [slow.url], catalog: [slow.url] },
      proxy: { timeoutsMs: { auth: 1_000, catalog: 150, orders: 150 } },
    });
  });
  afterAll(async () => {
    await gateway.stop();
    await slow.close();
  });

  /** Tries that reached the double; on a busy machine one can land just after the gateway gave up. */
  const triesSince = async (before: number, expected: number) => {
    await eventually(
      `${expected} calls to reach the slow upstream`,
      5_000,
      () => slow.seen.length - before >= expected,
    );
    return slow.seen.length - before;
  };

  it('answers 504 UPSTREAM_TIMEOUT within the route timeout, and does not retry a POST', async () => {
    const before = slow.seen.length;
    const started = performance.now();
    const res = await fetch(`${gateway.base}/api/orders`, { method: 'POST', headers: customer, body: '{}' });
    const elapsed = performance.now() - started;
    expect(res.status).toBe(504);
    expect(await errorCodeOf(res)).toBe('UPSTREAM_TIMEOUT');
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(UPSTREAM_DELAY_MS / 2);
    expect(await triesSince(before, 1)).toBe(1);
    const timeouts = `gateway_upstream_requests_total{upstream="orders",replica="${new URL(slow.url).host}",outcome="timeout"}`;
    expect(await metric(gateway.base, timeouts)).toBe(1);
  });

  it('retries a timed-out GET twice, each try with its own timeout', async () => {
    const before = slow.seen.length;
    const started = performance.now();
    const res = await fetch(`${gateway.base}/api/products`);
    const elapsed = performance.now() - started;
    expect(res.status).toBe(504);
    expect(elapsed).toBeGreaterThanOrEqual(3 * 140);
    expect(elapsed).toBeLessThan(UPSTREAM_DELAY_MS);
    expect(await triesSince(before, 3)).toBe(3);
  });
});

describe('retries', () => {
  let failing: Double;
  let broken: Double;
  let gateway: Running;
  beforeAll(async () => {
    [failing, broken] = await Promise.all([startDouble(answering(503)), startDouble(answering(500))]);
    gateway = await startGateway({ urls: { catalog: [failing.url], orders: [failing.url], auth: [broken.url] } });
  });
  afterAll(async () => {
    await gateway.stop();
    await Promise.all([failing.close(), broken.close()]);
  });

  it('retries a GET that got a 503 twice, then passes the 503 on', async () => {
    const before = failing.seen.length;
    const res = await fetch(`${gateway.base}/api/products/1`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: { code: 'UPSTREAM_SAYS', message: '503' } });
    expect(failing.seen.length - before).toBe(3);
    expect(await metric(gateway.base, 'gateway_retries_total{upstream="catalog",outcome="retried"}')).toBe(2);
  });

  it('never retries a POST', async () => {
    const before = failing.seen.length;
    const res = await fetch(`${gateway.base}/api/orders`, { method: 'POST', headers: customer, body: '{"items":[]}' });
    expect(res.status).toBe(503);
    expect(failing.seen.length - before).toBe(1);
    expect(await metric(gateway.base, 'gateway_retries_total{upstream="orders",outcome="retried"}')).toBe(0);
  });

  it('does not retry a 500: the upstream answered, and asking again would not change its mind', async () => {
    const before = broken.seen.length;
    const res = await fetch(`${gateway.base}/api/auth/me`, { headers: customer });
    expect(res.status).toBe(500);
    expect(broken.seen.length - before).toBe(1);
  });
});

describe('replicas that cannot be reached', () => {
  let alive: Double;
  let gateway: Running;
  beforeAll(async () => {
    alive = await startDouble();
    // Health checks far apart, so that only the proxy's own retries can route around the dead replica.
    gateway = await startGateway({
      urls: { catalog: [NOWHERE, alive.url], orders: [NOWHERE] },
      health: { intervalMs: 60_000, timeoutMs: 1_000, unhealthyAfter: 2 },
    });
  });
  afterAll(async () => {
    await gateway.stop();
    await alive.close();
  });

  it('sends a GET on to the next replica when the connection is refused', async () => {
    for (let i = 0; i < 4; i += 1) {
      const res = await fetch(`${gateway.base}/api/products`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-upstream-instance')).toBe(new URL(alive.url).host);
    }
  });

  it('answers a POST to an unreachable upstream with 502 UPSTREAM_UNAVAILABLE', async () => {
    const res = await fetch(`${gateway.base}/api/orders`, { method: 'POST', headers: customer, body: '{}' });
    expect(res.status).toBe(502);
    expect(await errorCodeOf(res)).toBe('UPSTREAM_UNAVAILABLE');
  });
});

describe('the retry budget', () => {
  let failing: Double;
  let gateway: Running;
  beforeAll(async () => {
    failing = await startDouble(answering(503));
    gateway = await startGateway({
      urls: { catalog: [failing.url] },
      proxy: {
        retry: {
          maxRetries: 2,
          backoffMs: { min: 1, max: 2 },
          budget: { ratio: 0.2, minPerWindow: 3, windowMs: 60_000 },
        },
      },
    });
  });
  afterAll(async () => {
    await gateway.stop();
    await failing.close();
  });

  it('stops retrying once retries would exceed 20% of requests plus 3', async () => {
    const hits: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      const before = failing.seen.length;
      expect((await fetch(`${gateway.base}/api/products`)).status).toBe(503);
      hits.push(failing.seen.length - before);
    }
    // A retry is allowed while retries < 3 + 0.2 x requests: requests 1 and 2 retry twice each (4
    // retries), 3 to 5 none (4 >= 3.6, 3.8, 4.0), and at request 6 the share has grown to one more.
    expect(hits).toEqual([3, 3, 1, 1, 1, 2]);
    expect(await metric(gateway.base, 'gateway_retries_total{upstream="catalog",outcome="retried"}')).toBe(5);
    expect(await metric(gateway.base, 'gateway_retries_total{upstream="catalog",outcome="budget_exhausted"}')).toBe(4);
  });

  it('says whether the budget is enforced: not while the retry-storm fault bypasses it', async () => {
    const faults = createFaults('gateway');
    const stormy = await startGateway({ urls: { catalog: [failing.url] }, faults });
    const enforced = () => metric(stormy.base, 'gateway_retry_budget_enforced{upstream="catalog"}');
    try {
      expect(await enforced()).toBe(1);
      faults.set('retry-storm', { attempts: 4 });
      expect(await enforced()).toBe(0);
      const before = failing.seen.length;
      expect((await fetch(`${stormy.base}/api/products`)).status).toBe(503);
      expect(failing.seen.length - before).toBe(4);
      faults.clear('retry-storm');
      expect(await enforced()).toBe(1);
    } finally {
      await stormy.stop();
    }
  });
});

describe('the circuit breaker', () => {
  let code = 500;
  let upstream: Double;
  let gateway: Running;
  beforeAll(async () => {
    upstream = await startDouble((_req, res) => void res.writeHead(code).end('{}'));
    gateway = await startGateway({
      urls: { orders: [upstream.url] },
      proxy: {
        breaker: { errorThresholdPercentage: 50, volumeThreshold: 4, rollingWindowMs: 10_000, resetTimeoutMs: 300 },
      },
    });
  });
  afterAll(async () => {
    await gateway.stop();
    await upstream.close();
  });

  const get = () => fetch(`${gateway.base}/api/orders`, { headers: customer });
  const circuit = async () => (await upstreamTable(gateway.base)).upstreams.find((u) => u.name === 'orders')?.circuit;

  it('does not count 4xx as failures', async () => {
    code = 404;
    for (let i = 0; i < 6; i += 1) expect((await get()).status).toBe(404);
    expect(await circuit()).toBe('closed');
  });

  it('opens after repeated 5xx, then fails fast with 503 CIRCUIT_OPEN without calling the upstream', async () => {
    code = 500;
    // The 404s above count as calls that went well, so it takes more than six failures to pass 50%.
    for (let i = 0; i < 20 && (await circuit()) === 'closed'; i += 1) expect((await get()).status).toBe(500);
    expect(await circuit()).toBe('open');
    expect(await metric(gateway.base, 'gateway_circuit_state{upstream="orders"}')).toBe(2);
    const before = upstream.seen.length;
    const res = await get();
    expect(res.status).toBe(503);
    expect(await errorCodeOf(res)).toBe('CIRCUIT_OPEN');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(upstream.seen.length).toBe(before);
  });

  it('lets one probe through after resetTimeout and closes again when it succeeds', async () => {
    code = 200;
    await eventually('the circuit to go half-open', 2_000, async () => (await circuit()) === 'halfOpen');
    expect(await metric(gateway.base, 'gateway_circuit_state{upstream="orders"}')).toBe(1);
    expect((await get()).status).toBe(200);
    expect(await circuit()).toBe('closed');
    expect(await metric(gateway.base, 'gateway_circuit_state{upstream="orders"}')).toBe(0);
    for (const to of ['open', 'half_open', 'closed']) {
      expect(await metric(gateway.base, `gateway_circuit_transitions_total{upstream="orders",to="${to}"}`)).toBe(1);
    }
  });
});

describe('clients that hang up', () => {
  let slow: Double;
  let gateway: Running;
  let hungUp: (early: boolean) => void;
  const upstreamClosed = new Promise<boolean>((resolve) => (hungUp = resolve));
  beforeAll(async () => {
    slow = await startDouble(answerAfter(5_000, (early) => hungUp(early)));
    gateway = await startGateway({ urls: { catalog: [slow.url] } });
  });
  afterAll(async () => {
    await gateway.stop();
    await slow.close();
  });

  it('aborts the upstream request, without a 5xx or a crash', async () => {
    await expect(fetch(`${gateway.base}/api/products`, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    expect(await upstreamClosed).toBe(true); // the gateway hung up on the upstream before it answered
    const text = await (await fetch(`${gateway.base}/metrics`)).text();
    expect(text).not.toMatch(/http_server_request_duration_seconds_count\{[^}]*status_class="5xx"/);
    expect((await fetch(`${gateway.base}/health/live`)).status).toBe(200);
  });
});

describe('bodies cut short', () => {
  let upstreamGone: () => void;
  const upstreamClosed = new Promise<void>((resolve) => (upstreamGone = resolve));
  // /products/1: half of a declared body, then the connection drops. Anything else: a body that
  // starts and never ends, until the gateway hangs up.
  const cutting = (req: http.IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
    res.write('{"products": [');
    if (req.url === '/products/1') return void setTimeout(() => res.socket?.destroy(), 20);
    res.once('close', () => upstreamGone());
  };
  let double: Double;
  let gateway: Running;
  beforeAll(async () => {
    double = await startDouble(cutting);
    gateway = await startGateway({ urls: { catalog: [double.url] } });
  });
  afterAll(async () => {
    await gateway.stop();
    await double.close();
  });

  it('closes the client connection when the upstream goes away mid-body', async () => {
    const res = await fetch(`${gateway.base}/api/products/1`);
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
    expect((await fetch(`${gateway.base}/health/live`)).status).toBe(200);
  });

  it('closes the upstream request when the client goes away mid-body', async () => {
    await new Promise<void>((resolve, reject) => {
      http
        .get(`${gateway.base}/api/products`, (res) => res.once('data', () => resolve(void res.destroy())))
        .once('error', reject);
    });
    await upstreamClosed;
    expect((await fetch(`${gateway.base}/health/live`)).status).toBe(200);
  });
});
