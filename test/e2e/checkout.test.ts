import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { api, bearer, send } from '../support/client';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { startStack, type Stack } from '../support/stack';
import { hostileCases, type Actors } from './hostile-cases';
import { eventually } from '../support/eventually';
import { TEST_LABS } from '../support/test-labs';

/**
 * ShopNow end to end: seven services as separate processes on the real MariaDB, Redis and
 * RabbitMQ, driven through the gateway the way a client would.
 */
jest.setTimeout(240_000);

const SPAN_KIND = { SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 };
const CHECKOUT_SERVICES = ['gateway', 'orders', 'catalog', 'payments', 'inventory', 'notifications'];

let receiver: OtlpReceiver;
let stack: Stack;
let gateway: string;

async function signUp(name: string) {
  const email = `${name}-${randomUUID()}@shopnow.test`;
  const password = randomBytes(12).toString('base64url');
  const registered = await api(gateway, 'POST', '/api/auth/register', { email, password, name });
  expect(registered.status).toBe(201);
  const login = await api(gateway, 'POST', '/api/auth/login', { email, password });
  expect(login.status).toBe(200);
  const { token, user } = login.json as { token: string; user: { id: number } };
  return { token, userId: user.id, email };
}

beforeAll(async () => {
  receiver = new OtlpReceiver();
  const otlpEndpoint = await receiver.start();
  stack = await startStack({ basePort: TEST_LABS.checkout.basePort, otlpEndpoint, seedOrders: 1_000 });
  gateway = stack.gateway;
});

afterAll(async () => {
  if (stack) await stack.stop();
  await receiver?.stop();
});

describe('a checkout through the gateway', () => {
  const traceId = randomBytes(16).toString('hex');
  const clientSpanId = randomBytes(8).toString('hex');
  let order: {
    id: string;
    status: string;
    totalCents: number;
    paymentId: string;
    items: { productId: number; quantity: number }[];
  };
  let customer: Awaited<ReturnType<typeof signUp>>;
  const stockBefore = new Map<number, number>();
  const lines = [
    { productId: 0, quantity: 2 },
    { productId: 0, quantity: 1 },
  ];

  beforeAll(async () => {
    customer = await signUp('alice');
    const listed = await api(gateway, 'GET', '/api/products?page=2&pageSize=5');
    expect(listed.status).toBe(200);
    const products = (listed.json as { products: { id: number }[] }).products;
    expect(products).toHaveLength(5);
    lines[0].productId = products[0].id;
    lines[1].productId = products[3].id;
    for (const { productId } of lines) {
      const stock = await api(stack.instance('inventory').url, 'GET', `/stock/${productId}`);
      stockBefore.set(productId, (stock.json as { available: number }).available);
    }
    const placed = await api(
      gateway,
      'POST',
      '/api/orders',
      { items: lines },
      {
        ...bearer(customer.token),
        'idempotency-key': `checkout-${randomUUID()}`,
        traceparent: `00-${traceId}-${clientSpanId}-01`,
      },
    );
    expect(placed.status).toBe(201);
    order = (placed.json as { order: typeof order }).order;
  });

  it('stores the order as paid, and the payment for its total', async () => {
    const fetched = await api(gateway, 'GET', `/api/orders/${order.id}`, undefined, bearer(customer.token));
    expect(fetched.status).toBe(200);
    expect(fetched.json).toMatchObject({ order: { id: order.id, status: 'paid', userId: customer.userId } });
    const payment = await api(stack.instance('payments').url, 'GET', `/payments/${order.paymentId}`);
    expect(payment.json).toMatchObject({
      payment: { orderId: order.id, status: 'approved', amountCents: order.totalCents },
    });
  });

  it('reserves the stock exactly once and sends one notification', async () => {
    const inventory = stack.instance('inventory').url;
    const reservation = await eventually('reservation', 15_000, async () => {
      const reply = await api(inventory, 'GET', `/reservations/${order.id}`);
      return reply.status === 200 ? (reply.json as { reservation: { status: string } }).reservation : undefined;
    });
    expect(reservation.status).toBe('reserved');
    for (const { productId, quantity } of lines) {
      const stock = await api(inventory, 'GET', `/stock/${productId}`);
      expect((stock.json as { available: number }).available).toBe(Number(stockBefore.get(productId)) - quantity);
    }
    const notifications = await eventually('notification', 15_000, async () => {
      const reply = await api(stack.instance('notifications').url, 'GET', `/notifications?orderId=${order.id}`);
      const found = (reply.json as { notifications?: unknown[] })?.notifications ?? [];
      return found.length > 0 ? found : undefined;
    });
    expect(notifications).toHaveLength(1);
  });

  it('replays the same Idempotency-Key without a second order, charge or notification', async () => {
    const key = `replay-${randomUUID()}`;
    const headers = { ...bearer(customer.token), 'idempotency-key': key };
    const first = await api(
      gateway,
      'POST',
      '/api/orders',
      { items: [{ productId: lines[0].productId, quantity: 1 }] },
      headers,
    );
    const second = await api(
      gateway,
      'POST',
      '/api/orders',
      { items: [{ productId: lines[0].productId, quantity: 1 }] },
      headers,
    );
    expect(first.status).toBe(201);
    expect(second.status).toBe(200);
    const firstOrder = (first.json as { order: typeof order }).order;
    expect((second.json as { order: typeof order }).order.id).toBe(firstOrder.id);
    const notifications = await eventually('the notification of the first order', 15_000, async () => {
      const reply = await api(stack.instance('notifications').url, 'GET', `/notifications?orderId=${firstOrder.id}`);
      const found = (reply.json as { notifications?: unknown[] })?.notifications ?? [];
      return found.length > 0 ? found : undefined;
    });
    expect(notifications).toHaveLength(1);
  });

  it("counts the checkout in every service's metrics, under route templates", async () => {
    const scrape = async (name: string) => (await send(stack.instance(name).url, 'GET', '/metrics')).text;
    const count = (text: string, pattern: string) =>
      new RegExp(pattern.replace(/[{}"]/g, (c) => `\\${c}`) + ' (\\d+)').exec(text)?.[1];
    expect(
      count(
        await scrape('gateway'),
        'http_server_request_duration_seconds_count{method="POST",route="/api/orders",status_class="2xx"}',
      ),
    ).toBeDefined();
    expect(
      count(
        await scrape('orders'),
        'http_server_request_duration_seconds_count{method="POST",route="/orders",status_class="2xx"}',
      ),
    ).toBeDefined();
    expect(
      count(
        await scrape('payments'),
        'http_server_request_duration_seconds_count{method="POST",route="/payments",status_class="2xx"}',
      ),
    ).toBeDefined();
    expect(
      count(
        await scrape('catalog-1'),
        'http_server_request_duration_seconds_count{method="GET",route="/products/:id",status_class="2xx"}',
      ),
    ).toBeDefined();
    expect(await scrape('inventory')).toMatch(
      /messaging_client_consumed_messages_total\{queue="[^"]+",outcome="ack"\} [1-9]/,
    );
    expect(await scrape('notifications')).toMatch(
      /messaging_client_consumed_messages_total\{queue="[^"]+",outcome="ack"\} [1-9]/,
    );
    for (const name of ['gateway', 'orders', 'payments', 'catalog-1']) {
      expect(await scrape(name)).not.toContain(order.id);
    }
  });

  it('logs every line of the checkout with the same trace_id, in every service it touched', async () => {
    for (const service of CHECKOUT_SERVICES) {
      await eventually(
        `a ${service} log line with the trace id`,
        10_000,
        () =>
          stack.instances.some((i) => i.service === service && i.lines.some((line) => line.trace_id === traceId)) ||
          undefined,
      );
    }
    // The checkout's lines name its order; the test's own later lookups (GETs) are other requests.
    const mentioning = stack.instances
      .flatMap((instance) => instance.lines)
      .filter((line) => JSON.stringify(line).includes(order.id) && line.method !== 'GET');
    expect(mentioning.length).toBeGreaterThan(0);
    expect(
      mentioning.filter((line) => line.trace_id !== traceId || !/^[0-9a-f]{16}$/.test(String(line.span_id))),
    ).toEqual([]);
  });

  it('exports ONE trace from the gateway to both consumers, over OTLP', async () => {
    const spans = await eventually('spans from every checkout service', 20_000, () => {
      const inTrace = receiver.spans.filter((span) => span.traceId === traceId);
      const services = new Set(inTrace.map((span) => span.service));
      return CHECKOUT_SERVICES.every((service) => services.has(service)) ? inTrace : undefined;
    });
    // One tree: every span's parent is the client's span or another span of the same trace.
    const ids = new Set(spans.map((span) => span.spanId));
    const orphans = spans.filter((span) => span.parentSpanId !== clientSpanId && !ids.has(span.parentSpanId));
    expect(orphans.map((span: ReceivedSpan) => `${span.service}: ${span.name}`)).toEqual([]);
    expect(spans.some((span) => span.service === 'orders' && span.kind === SPAN_KIND.PRODUCER)).toBe(true);
    expect(spans.some((span) => span.service === 'inventory' && span.kind === SPAN_KIND.CONSUMER)).toBe(true);
    expect(spans.some((span) => span.service === 'notifications' && span.kind === SPAN_KIND.CONSUMER)).toBe(true);
    expect(
      spans.some(
        (span) =>
          span.service === 'orders' &&
          /insert/i.test(String(span.attributes['db.query.text'] ?? span.attributes['db.statement'] ?? span.name)),
      ),
    ).toBe(true);
    // The logs travel over OTLP as well, correlated to the same trace.
    expect(receiver.logs.some((log) => log.service === 'orders' && log.traceId === traceId)).toBe(true);
  });
});

describe('hostile and malformed requests through the gateway', () => {
  let actors: Actors;

  beforeAll(async () => {
    const alice = await signUp('mallory');
    const bob = await signUp('bob');
    const admin = await api(gateway, 'POST', '/api/auth/login', {
      email: stack.secrets.adminEmail,
      password: stack.secrets.adminPassword,
    });
    expect(admin.status).toBe(200);
    const bobsOrder = await api(
      gateway,
      'POST',
      '/api/orders',
      { items: [{ productId: 1, quantity: 1 }] },
      {
        ...bearer(bob.token),
        'idempotency-key': `bob-${randomUUID()}`,
      },
    );
    expect(bobsOrder.status).toBe(201);
    actors = {
      gateway,
      customer: alice,
      adminToken: (admin.json as { token: string }).token,
      otherUsersOrderId: (bobsOrder.json as { order: { id: string } }).order.id,
      jwtSecret: stack.secrets.jwtSecret,
    };
  });

  it('has at least 50 cases', () => {
    expect(hostileCases.length).toBeGreaterThanOrEqual(50);
  });

  it('answers each with the right 4xx and a JSON error, never a 5xx', async () => {
    const failures: string[] = [];
    for (const hostile of hostileCases) {
      const request = await hostile.request(actors);
      const reply = await send(gateway, request.method, request.path, { headers: request.headers, body: request.body });
      const error = (reply.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
      const expected = Array.isArray(hostile.expect) ? hostile.expect : [hostile.expect];
      if (!expected.includes(reply.status) || typeof error?.code !== 'string' || typeof error?.message !== 'string') {
        failures.push(
          `${hostile.name}: expected ${expected.join('|')} with a JSON error, got ${reply.status} ${reply.text.slice(0, 200)}`,
        );
      }
    }
    expect(failures).toEqual([]);
  });

  it('is still standing afterwards: no process exited, the shop still sells', async () => {
    for (const instance of stack.instances) expect(instance.child.exitCode).toBeNull();
    const products = await api(gateway, 'GET', '/api/products/1');
    expect(products.status).toBe(200);
  });
});

describe('the metrics every service exposes', () => {
  it('pass promtool check metrics', () => {
    return Promise.all(
      stack.instances.map(async (instance) => {
        const text = (await send(instance.url, 'GET', '/metrics')).text;
        expect(() => execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })).not.toThrow();
      }),
    );
  });
});

describe('shutdown', () => {
  it('stops every service gracefully on SIGTERM, each exiting 0 within 10 s', async () => {
    const started = Date.now();
    const codes = await stack.stop();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(codes).toEqual(Object.fromEntries(stack.instances.map((instance) => [instance.name, 0])));
  });
});
