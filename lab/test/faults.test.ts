/**
 * The fault engine end to end: ShopNow as real processes on the real MariaDB, Redis and RabbitMQ
 * (test/support/stack.ts, on its ports in test/support/test-labs.ts), every fault injected through the lab's fault module, its
 * real effect observed (metrics, logs, answers, the database, the broker), then cleared and seen
 * gone. orders runs on a schema of its own (faults_orders), so dropping its index never touches
 * the schema another suite is using.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import mysql from 'mysql2/promise';
import { provisionSchema } from '@shopnow/kit/mysql';
import { activeFaults, clearFaults, injectFault, resetLab, type FaultContext } from '../src/core/faults';
import { HISTORY_INDEX } from '../src/core/faults/lab-faults';
import { AMQP_URL, MYSQL_ADMIN_URL } from '../../test/support/backends';
import { OtlpReceiver } from '../../test/support/otlp-receiver';
import { startStack, type Stack } from '../../test/support/stack';
import { eventually } from '../../test/support/eventually';
import { TEST_LABS } from '../../test/support/test-labs';

jest.setTimeout(60_000);

const ORDERS = { schema: 'faults_orders', password: 'faults-password-orders' };

let receiver: OtlpReceiver;
let stack: Stack;
let ctx: FaultContext;
let customer: { token: string };
const url = (instance: string) => stack.instance(instance).url;

// --- small helpers over the real endpoints -----------------------------------------------------

async function call(base: string, pathname: string, init: RequestInit = {}) {
  const started = performance.now();
  const res = await fetch(`${base}${pathname}`, { ...init, signal: AbortSignal.timeout(20_000) });
  const text = await res.text();
  return { status: res.status, text, ms: performance.now() - started };
}

const metrics = async (instance: string) => (await call(url(instance), '/metrics')).text;

/** The sum of a metric's samples whose labels include every given label. */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const set = match[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) sum += Number(match[3]);
  }
  return sum;
}

const metric = async (instance: string, name: string, labels: Record<string, string> = {}) =>
  value(await metrics(instance), name, labels);

const admin = (pathname: string, init: RequestInit = {}, token = stack.secrets.labToken) =>
  call(url('catalog-1'), `/admin/faults${pathname}`, {
    ...init,
    headers: { 'content-type': 'application/json', ...(token ? { 'x-lab-token': token } : {}) },
  });

async function checkout(headers: Record<string, string> = {}) {
  const res = await call(stack.gateway, '/api/orders', {
    method: 'POST',
    headers: {
      authorization: `Bearer ${customer.token}`,
      'content-type': 'application/json',
      'idempotency-key': `faults-${randomUUID()}`,
      ...headers,
    },
    body: JSON.stringify({ items: [{ productId: 1 + Math.floor(Math.random() * 500), quantity: 1 }] }),
  });
  return { ...res, order: res.status === 201 ? (JSON.parse(res.text) as { order: { id: string } }).order : undefined };
}

async function explainHistory(): Promise<{ key: string | null; type: string }> {
  const conn = await mysql.createConnection({ uri: MYSQL_ADMIN_URL });
  try {
    const [rows] = await conn.query(
      `EXPLAIN SELECT id FROM \`${ORDERS.schema}\`.orders WHERE user_id = 42 ORDER BY created_at DESC, id DESC LIMIT 20`,
    );
    return (rows as Array<{ key: string | null; type: string }>)[0];
  } finally {
    await conn.end();
  }
}

async function queueDepth(queue: string): Promise<number> {
  const conn = await amqp.connect(AMQP_URL);
  try {
    return (await (await conn.createChannel()).checkQueue(queue)).messageCount;
  } finally {
    await conn.close();
  }
}

beforeAll(async () => {
  await provisionSchema(MYSQL_ADMIN_URL, ORDERS.schema, ORDERS.schema, ORDERS.password);
  receiver = new OtlpReceiver();
  const otlpEndpoint = await receiver.start();
  stack = await startStack({
    basePort: TEST_LABS.faults.basePort,
    otlpEndpoint,
    // A table large enough that the optimiser prefers the index to a scan.
    seedOrders: 20_000,
    instanceEnv: {
      orders: { MYSQL_URL: `mysql://${ORDERS.schema}:${ORDERS.password}@127.0.0.1:3306/${ORDERS.schema}` },
    },
  });
  const env = (name: string) => stack.instance(name).env;
  ctx = {
    instances: stack.instances.map(({ name, service, url }) => ({ name, service, url })),
    labToken: stack.secrets.labToken,
    mysqlAdminUrl: MYSQL_ADMIN_URL,
    ordersSchema: ORDERS.schema,
    amqpUrl: AMQP_URL,
    exchange: env('orders').EVENTS_EXCHANGE,
    queues: { inventory: env('inventory').INVENTORY_QUEUE, notifications: env('notifications').NOTIFICATIONS_QUEUE },
    stateFile: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lab-faults-')), 'faults.json'),
    waitHealthy: async () => {
      for (const { url } of stack.instances)
        await eventually(url, 30_000, async () => ((await fetch(`${url}/health/ready`)).ok ? true : undefined));
    },
  };
  const email = `faults-${randomUUID()}@shopnow.test`;
  const password = randomBytes(12).toString('base64url');
  const json = { 'content-type': 'application/json' };
  await call(stack.gateway, '/api/auth/register', {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ email, password, name: 'Faulty' }),
  });
  const login = await call(stack.gateway, '/api/auth/login', {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ email, password }),
  });
  customer = JSON.parse(login.text) as { token: string };
}, 240_000);

afterAll(async () => {
  if (ctx) await clearFaults(ctx).catch(() => undefined);
  if (stack) await stack.stop();
  await receiver?.stop();
});

describe('the admin endpoint', () => {
  it('refuses a missing or wrong token with 401', async () => {
    expect((await admin('', {}, '')).status).toBe(401);
    expect((await admin('', {}, 'x'.repeat(32))).status).toBe(401);
    expect((await admin('')).status).toBe(200);
  });

  it('refuses unknown faults, bad options and faults of other services with JSON 4xx', async () => {
    const put = (name: string, body: unknown) => admin(`/${name}`, { method: 'PUT', body: JSON.stringify(body) });
    const unknown = await put('gremlins', {});
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text)).toMatchObject({ error: { code: 'NOT_FOUND' } });
    const bad = await put('latency', { ms: -1, extra: true });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ error: { code: 'INVALID_FAULT_OPTIONS' } });
    const elsewhere = await put('slow-provider', {});
    expect(elsewhere.status).toBe(400);
    expect(JSON.parse(elsewhere.text)).toMatchObject({ error: { code: 'FAULT_NOT_APPLICABLE' } });
  });

  it('is refused by the lab module before anything is sent', async () => {
    await expect(injectFault(ctx, { name: 'gremlins' })).rejects.toThrow(/unknown fault "gremlins"/);
    await expect(injectFault(ctx, { name: 'latency', service: 'catalog', options: { ms: 'slow' } })).rejects.toThrow(
      /invalid options for latency/,
    );
    await expect(injectFault(ctx, { name: 'latency' })).rejects.toThrow(/needs --service/);
    await expect(injectFault(ctx, { name: 'cache-bypass', service: 'orders' })).rejects.toThrow(
      /does not apply to orders/,
    );
    await expect(injectFault(ctx, { name: 'errors', instance: 'catalog-9' })).rejects.toThrow(/unknown instance/);
  });
});

describe('request faults', () => {
  it('errors: a share of 5xx on one instance, counted under the route', async () => {
    const injected = await injectFault(ctx, {
      name: 'errors',
      instance: 'catalog-1',
      options: { status: 503, share: 1, pathPrefix: '/products' },
    });
    expect(injected.instances).toEqual(['catalog-1']);
    const before = await metric('catalog-1', 'http_server_request_duration_seconds_count', { status_class: '5xx' });
    expect((await call(url('catalog-1'), '/products/1')).status).toBe(503);
    expect((await call(url('catalog-2'), '/products/1')).status).toBe(200);
    expect(
      await metric('catalog-1', 'http_server_request_duration_seconds_count', {
        route: '/products/:id',
        status_class: '5xx',
      }),
    ).toBeGreaterThan(before);
    const { faults } = await activeFaults(ctx);
    expect(faults).toEqual([expect.objectContaining({ name: 'errors', where: 'service', instance: 'catalog-1' })]);
    expect((await clearFaults(ctx, { name: 'errors' })).cleared).toHaveLength(1);
    expect((await call(url('catalog-1'), '/products/1')).status).toBe(200);
  });

  it('latency: the handler becomes slow, then fast again', async () => {
    await injectFault(ctx, { name: 'latency', service: 'inventory', options: { ms: 400 } });
    expect((await call(url('inventory'), '/stock/1')).ms).toBeGreaterThanOrEqual(400);
    await clearFaults(ctx, { name: 'latency' });
    expect((await call(url('inventory'), '/stock/1')).ms).toBeLessThan(400);
  });

  it('event-loop-block: the event loop lag rises while requests burn CPU', async () => {
    const lag = () => metric('notifications', 'nodejs_eventloop_lag_max_seconds');
    const burst = () =>
      Promise.all(
        Array.from({ length: 4 }, () => call(url('notifications'), `/notifications?orderId=${randomUUID()}`)),
      );
    await injectFault(ctx, { name: 'event-loop-block', service: 'notifications', options: { ms: 300 } });
    await lag(); // each scrape starts a new measurement window
    await burst();
    expect(await lag()).toBeGreaterThanOrEqual(0.25);
    await clearFaults(ctx, { name: 'event-loop-block' });
    await lag();
    await burst();
    expect(await lag()).toBeLessThan(0.25);
  });

  it('memory-leak: the resident memory grows with every request, and stops growing once cleared', async () => {
    const rss = () => metric('auth', 'process_resident_memory_bytes');
    const requests = () => Promise.all(Array.from({ length: 30 }, () => call(url('auth'), '/auth/me')));
    await injectFault(ctx, { name: 'memory-leak', service: 'auth', options: { bytesPerRequest: 5 * 1024 * 1024 } });
    const before = await rss();
    await requests();
    expect((await rss()) - before).toBeGreaterThan(100 * 1024 * 1024);
    await clearFaults(ctx, { name: 'memory-leak' });
    const after = await rss();
    await requests();
    expect((await rss()) - after).toBeLessThan(50 * 1024 * 1024);
  });

  it('log-flood: many lines for one request, none once cleared', async () => {
    const lines = () => stack.instance('payments').lines.filter((l) => l.message === 'request detail').length;
    await injectFault(ctx, { name: 'log-flood', service: 'payments', options: { linesPerRequest: 50 } });
    await call(url('payments'), `/payments/${randomUUID()}`);
    const flooded = await eventually('50 log lines', 5_000, () => (lines() >= 50 ? lines() : undefined));
    await clearFaults(ctx, { name: 'log-flood' });
    await call(url('payments'), `/payments/${randomUUID()}`);
    // The request's own access line arrives after its flood would have: wait for it, then count.
    const accessLines = () => stack.instance('payments').lines.filter((l) => l.message === 'request completed').length;
    const seen = accessLines();
    await call(url('payments'), `/payments/${randomUUID()}`);
    await eventually('the access line', 5_000, () => (accessLines() > seen ? true : undefined));
    expect(lines()).toBe(flooded);
  });

  it('high-cardinality: raw paths become route labels, templates again once cleared', async () => {
    await injectFault(ctx, { name: 'high-cardinality', service: 'inventory' });
    await call(url('inventory'), '/stock/7');
    await call(url('inventory'), '/stock/8');
    const text = await metrics('inventory');
    expect(value(text, 'http_server_request_duration_seconds_count', { route: '/stock/7' })).toBe(1);
    expect(value(text, 'http_server_request_duration_seconds_count', { route: '/stock/8' })).toBe(1);
    await clearFaults(ctx, { name: 'high-cardinality' });
    const templated = await metric('inventory', 'http_server_request_duration_seconds_count', {
      route: '/stock/:productId',
    });
    await call(url('inventory'), '/stock/9');
    const after = await metrics('inventory');
    expect(value(after, 'http_server_request_duration_seconds_count', { route: '/stock/9' })).toBe(0);
    expect(value(after, 'http_server_request_duration_seconds_count', { route: '/stock/:productId' })).toBe(
      templated + 1,
    );
  });
});

describe('service faults on real mechanisms', () => {
  it('pool-shrink: one connection, and queries wait for it', async () => {
    await injectFault(ctx, { name: 'pool-shrink', instance: 'catalog-2', options: { size: 1 } });
    expect(await metric('catalog-2', 'db_client_connection_max')).toBe(1);
    const pending = await eventually('pending requests on the pool', 20_000, async () => {
      const load = Promise.all(
        Array.from({ length: 40 }, (_, i) => call(url('catalog-2'), `/products/search?q=${i % 10}`)),
      );
      const seen = await metric('catalog-2', 'db_client_connection_pending_requests');
      await load;
      return seen > 0 ? seen : undefined;
    });
    expect(pending).toBeGreaterThan(0);
    await clearFaults(ctx, { name: 'pool-shrink' });
    expect(await metric('catalog-2', 'db_client_connection_max')).toBe(10);
  });

  it('cache-bypass: every read misses the cache, and hits again once cleared', async () => {
    const count = (result: string) => metric('catalog-1', 'cache_requests_total', { result });
    await injectFault(ctx, { name: 'cache-bypass', instance: 'catalog-1', options: { mode: 'bypass' } });
    const [misses, hits] = [await count('miss'), await count('hit')];
    for (let i = 0; i < 3; i += 1) await call(url('catalog-1'), '/products/11');
    expect(await count('miss')).toBe(misses + 3);
    expect(await count('hit')).toBe(hits);
    await clearFaults(ctx, { name: 'cache-bypass' });
    for (let i = 0; i < 3; i += 1) await call(url('catalog-1'), '/products/11');
    expect(await count('hit')).toBeGreaterThanOrEqual(hits + 2);
  });

  it('consumer-stall (stalled): a backlog builds in the queue and drains once cleared', async () => {
    const queue = ctx.queues.inventory;
    await injectFault(ctx, { name: 'consumer-stall', service: 'inventory', options: { mode: 'stalled' } });
    const conn = await amqp.connect(AMQP_URL);
    const channel = await conn.createConfirmChannel();
    // More than the consumer's prefetch (10): the rest must wait as ready messages.
    for (let i = 0; i < 25; i += 1)
      channel.publish(ctx.exchange, 'order.created', Buffer.from('{}'), { messageId: `stall-${i}`, persistent: true });
    await channel.waitForConfirms();
    await conn.close();
    const backlog = await eventually('a backlog', 10_000, async () => {
      const depth = await metric('inventory', 'messaging_queue_messages', { queue });
      return depth >= 10 ? depth : undefined;
    });
    expect(backlog).toBeGreaterThanOrEqual(10);
    await clearFaults(ctx, { name: 'consumer-stall' });
    await eventually('the queue drained', 20_000, async () => ((await queueDepth(queue)) === 0 ? true : undefined));
  });

  it('broken-propagation: the consumer starts a new trace, and joins the checkout again once cleared', async () => {
    const consumerTrace = async () => {
      const traceId = randomBytes(16).toString('hex');
      const placed = await checkout({ traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` });
      expect(placed.status).toBe(201);
      const line = await eventually('inventory processing the order', 20_000, () =>
        stack
          .instance('inventory')
          .lines.find((l) => l.message === 'order.created processed' && l.orderId === placed.order?.id),
      );
      return { sent: traceId, seen: line.trace_id };
    };
    await injectFault(ctx, { name: 'broken-propagation', service: 'orders' });
    const broken = await consumerTrace();
    expect(broken.seen).toMatch(/^[0-9a-f]{32}$/);
    expect(broken.seen).not.toBe(broken.sent);
    await clearFaults(ctx, { name: 'broken-propagation' });
    const joined = await consumerTrace();
    expect(joined.seen).toBe(joined.sent);
  });

  it('dependency-unreachable: a checkout fails with 503 while payments is unreachable', async () => {
    await injectFault(ctx, { name: 'dependency-unreachable', service: 'orders', options: { dependency: 'payments' } });
    const failed = await checkout();
    expect([503, 504]).toContain(failed.status);
    await clearFaults(ctx, { name: 'dependency-unreachable' });
    expect((await checkout()).status).toBe(201);
  });

  it('slow-provider: the provider takes the fault’s time, and its own again once cleared', async () => {
    const mean = async (run: () => Promise<unknown>) => {
      const [sum, count] = await Promise.all([
        metric('payments', 'payment_provider_request_duration_seconds_sum'),
        metric('payments', 'payment_provider_request_duration_seconds_count'),
      ]);
      await run();
      const [sum2, count2] = await Promise.all([
        metric('payments', 'payment_provider_request_duration_seconds_sum'),
        metric('payments', 'payment_provider_request_duration_seconds_count'),
      ]);
      return (sum2 - sum) / (count2 - count);
    };
    await injectFault(ctx, { name: 'slow-provider', service: 'payments', options: { ms: 800 } });
    expect(await mean(async () => expect((await checkout()).status).toBe(201))).toBeGreaterThanOrEqual(0.4);
    await clearFaults(ctx, { name: 'slow-provider' });
    expect(await mean(async () => expect((await checkout()).status).toBe(201))).toBeLessThan(0.2);
  });

  it('retry-storm: the gateway retries past its budget, and within it once cleared', async () => {
    const retried = () => metric('gateway', 'gateway_retries_total', { upstream: 'catalog', outcome: 'retried' });
    const served = async () =>
      (await metric('catalog-1', 'http_server_request_duration_seconds_count', { route: '/products/:id' })) +
      (await metric('catalog-2', 'http_server_request_duration_seconds_count', { route: '/products/:id' }));
    const breakerClosed = () =>
      eventually('the catalog circuit closed again', 20_000, async () =>
        (await call(stack.gateway, '/api/products/3')).status === 200 ? true : undefined,
      );
    const failing = { status: 503, share: 1, pathPrefix: '/products' };

    await injectFault(ctx, { name: 'errors', service: 'catalog', options: failing });
    await injectFault(ctx, { name: 'retry-storm', service: 'gateway', options: { attempts: 5 } });
    const [retriedBefore, servedBefore] = [await retried(), await served()];
    for (let i = 0; i < 2; i += 1) expect((await call(stack.gateway, '/api/products/3')).status).toBe(503);
    // Two requests, five tries each: 8 retries where the budget allows 3 plus 20 % of the requests.
    expect((await retried()) - retriedBefore).toBe(8);
    expect((await served()) - servedBefore).toBe(10);
    await clearFaults(ctx);
    await breakerClosed();

    await injectFault(ctx, { name: 'errors', service: 'catalog', options: failing });
    const [retriedCalm, servedCalm] = [await retried(), await served()];
    expect((await call(stack.gateway, '/api/products/3')).status).toBe(503);
    expect((await retried()) - retriedCalm).toBeLessThanOrEqual(2);
    expect((await served()) - servedCalm).toBeLessThanOrEqual(3);
    await clearFaults(ctx);
    await breakerClosed();
  });
});

describe('lab-side faults', () => {
  const showIndex = async () => {
    const conn = await mysql.createConnection({ uri: MYSQL_ADMIN_URL });
    try {
      const [rows] = await conn.query(`SHOW INDEX FROM \`${ORDERS.schema}\`.orders WHERE Key_name = ?`, [
        HISTORY_INDEX,
      ]);
      return (rows as Array<{ Column_name: string }>).map((r) => r.Column_name);
    } finally {
      await conn.end();
    }
  };

  it('dropped-index: the order history loses its index (a full scan), and gets it back on clear', async () => {
    expect(await showIndex()).toEqual(['user_id', 'created_at']);
    expect(await explainHistory()).toMatchObject({ key: HISTORY_INDEX });
    await injectFault(ctx, { name: 'dropped-index' });
    expect(await showIndex()).toEqual([]);
    expect(await explainHistory()).toMatchObject({ key: null, type: 'ALL' });
    expect((await activeFaults(ctx)).faults).toEqual([
      expect.objectContaining({ name: 'dropped-index', where: 'lab' }),
    ]);
    await clearFaults(ctx, { name: 'dropped-index' });
    expect(await showIndex()).toEqual(['user_id', 'created_at']);
    expect(await explainHistory()).toMatchObject({ key: HISTORY_INDEX });
  });

  it('dropped-index: once the index is built again by hand, it is no longer listed as in force', async () => {
    await injectFault(ctx, { name: 'dropped-index' });
    expect((await activeFaults(ctx)).faults).toEqual([expect.objectContaining({ name: 'dropped-index' })]);
    // What exercise 03's learner does, as the admin account here.
    const conn = await mysql.createConnection({ uri: MYSQL_ADMIN_URL });
    try {
      await conn.query(`CREATE INDEX ${HISTORY_INDEX} ON \`${ORDERS.schema}\`.orders (user_id, created_at)`);
    } finally {
      await conn.end();
    }
    expect((await activeFaults(ctx)).faults).toEqual([]);
    await clearFaults(ctx, { name: 'dropped-index' }); // nothing left to build: a no-op
    expect(await showIndex()).toEqual(['user_id', 'created_at']);
  });

  it('poison-message: unparsable messages land in both dead-letter queues, purged on clear', async () => {
    const dlqs = Object.values(ctx.queues).map((q) => `${q}.dlq`);
    const before = await Promise.all(dlqs.map(queueDepth));
    await injectFault(ctx, { name: 'poison-message', options: { count: 2 } });
    await eventually('two poison messages in each dead-letter queue', 20_000, async () => {
      const now = await Promise.all(dlqs.map(queueDepth));
      return now.every((n, i) => n >= before[i] + 2) ? true : undefined;
    });
    await clearFaults(ctx, { name: 'poison-message' });
    expect(await Promise.all(dlqs.map(queueDepth))).toEqual([0, 0]);
  });

  it('resetLab clears service and lab faults alike and restores the index', async () => {
    await injectFault(ctx, { name: 'latency', service: 'catalog', options: { ms: 50 } });
    await injectFault(ctx, { name: 'dropped-index' });
    expect((await activeFaults(ctx)).faults).toHaveLength(3);
    const reset = await resetLab(ctx);
    expect(reset.cleared.map((c) => c.name).sort()).toEqual(['dropped-index', 'latency', 'latency']);
    expect((await activeFaults(ctx)).faults).toEqual([]);
    expect(await showIndex()).toEqual(['user_id', 'created_at']);
  });
});
