import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { context, propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { createLogger, createRegistry, orderEvent } from '@shopnow/kit';
import { OCCURRED_AT_HEADER, createAmqp, type Amqp } from '@shopnow/kit/amqp';
import amqp, { type ChannelModel, type ConsumeMessage } from 'amqplib';
import type { RowDataPacket } from 'mysql2';
import { createOrders } from '../src/orders';
import { createOutboxRelay } from '../src/outbox';
import { AMQP_URL } from '../../../test/support/backends';
import { bodyOf, log, newKey, newUserId, postOrder, startHarness, until, type Harness } from './harness';

// Real MariaDB (test_orders) and a real RabbitMQ, on an exchange and queue of this run only.
describe('the outbox relay', () => {
  const exchange = `test.events.${randomUUID()}`;
  const queue = `test.orders-outbox.${randomUUID()}`;
  const received: ConsumeMessage[] = [];
  let h: Harness;
  let broker: Amqp;
  let listener: ChannelModel;

  beforeAll(async () => {
    // What the SDK does in production: a context manager, and W3C trace context on the wire.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    h = await startHarness();
    broker = createAmqp({
      url: AMQP_URL,
      log,
      registry: createRegistry('orders', 'test'),
      topology: async (channel) => {
        await channel.assertExchange(exchange, 'topic', { durable: true });
      },
    });
    await until(() => broker.isConnected());
    listener = await amqp.connect(AMQP_URL);
    const channel = await listener.createChannel();
    await channel.assertQueue(queue, { exclusive: true });
    await channel.bindQueue(queue, exchange, 'order.*');
    await channel.consume(queue, (message) => message && received.push(message), { noAck: true });
  });

  afterAll(async () => {
    await broker.close();
    const channel = await listener.createChannel();
    await channel.deleteQueue(queue);
    await channel.deleteExchange(exchange);
    await listener.close();
    await h.close();
    context.disable();
    propagation.disable();
  });

  const rowsOf = async (orderId: string) =>
    (
      await h.pool.query<RowDataPacket[]>(
        "SELECT id, created_at, published_at FROM outbox WHERE JSON_VALUE(payload, '$.order.id') = ? ORDER BY event_type",
        [orderId],
      )
    )[0];
  const messagesOf = (orderId: string) => received.filter((m) => JSON.parse(m.content.toString()).order.id === orderId);
  let waitingOrder: string;

  it('leaves the events in the outbox while RabbitMQ is unreachable, and the backlog shows them', async () => {
    const registry = createRegistry('orders', 'test');
    const offline = createAmqp({
      url: 'amqp://guest:guest@127.0.0.1:1',
      log,
      registry,
      topology: async () => undefined,
    });
    const relay = createOutboxRelay({ pool: h.pool, amqp: offline, exchange, log, registry, pollMs: 20 });
    try {
      const res = await postOrder(h.base, newUserId(), newKey(), { items: [{ productId: 3, quantity: 1 }] });
      expect(res.status).toBe(201);
      waitingOrder = (await bodyOf(res)).order.id;
      await expect(relay.relayOnce()).rejects.toThrow('not connected');
      relay.start();
      await relay.stop();
      expect((await rowsOf(waitingOrder)).map((row) => row.published_at)).toEqual([null, null]);
      const backlog = Number(/^outbox_backlog_messages (\d+)$/m.exec(await registry.metrics())?.[1]);
      expect(backlog).toBeGreaterThanOrEqual(2);
      expect(await registry.metrics()).toMatch(/^outbox_oldest_message_age_seconds \d/m);
    } finally {
      await offline.close();
    }
  });

  it('publishes them with confirms once RabbitMQ answers, in the trace of their checkout, and marks them published', async () => {
    const orders = createOrders({
      pool: h.pool,
      registry: createRegistry('orders', 'test'),
      log: createLogger('orders', 'error'),
      catalogUrl: h.catalogUrl,
      paymentsUrl: h.payments.url,
      catalogTimeoutMs: 1_000,
      paymentsTimeoutMs: 2_000,
    });
    const traceId = randomBytes(16).toString('hex');
    const checkoutSpan = trace.setSpanContext(ROOT_CONTEXT, {
      traceId,
      spanId: randomBytes(8).toString('hex'),
      traceFlags: TraceFlags.SAMPLED,
    });
    const caller = { userId: newUserId(), roles: [] };
    const items = [{ productId: 1, quantity: 3 }];
    const { order } = await context.with(checkoutSpan, () => orders.checkout(caller, newKey(), items));

    // Which trace each message is published in: what the amqplib instrumentation would parent its span on.
    const publishedIn = new Map<string | undefined, string | undefined>();
    const relay = createOutboxRelay({
      pool: h.pool,
      amqp: {
        ...broker,
        publish(...args) {
          publishedIn.set(args[3]?.messageId, trace.getSpanContext(context.active())?.traceId);
          return broker.publish(...args);
        },
      },
      exchange,
      log,
      registry: h.registry,
      pollMs: 20,
    });
    relay.start();
    try {
      await until(async () => (await rowsOf(order.id)).every((row) => row.published_at !== null));
      await until(async () => (await rowsOf(waitingOrder)).every((row) => row.published_at !== null));
      await until(() => messagesOf(order.id).length === 2 && messagesOf(waitingOrder).length === 2);
    } finally {
      await relay.stop();
    }

    const rows = await rowsOf(order.id);
    const messages = messagesOf(order.id).sort((a, b) => a.fields.routingKey.localeCompare(b.fields.routingKey));
    expect(messages.map((m) => m.fields.routingKey)).toEqual(['order.created', 'order.paid']);
    messages.forEach((message, i) => {
      const event = orderEvent.parse(JSON.parse(message.content.toString()));
      expect(event).toMatchObject({ type: message.fields.routingKey, order: { id: order.id, totalCents: 3 * 1250 } });
      expect(message.properties).toMatchObject({
        messageId: event.eventId,
        deliveryMode: 2,
        contentType: 'application/json',
      });
      expect(message.properties.headers?.[OCCURRED_AT_HEADER]).toBe((rows[i].created_at as Date).getTime());
      expect(event.eventId).toBe(rows[i].id);
      expect(publishedIn.get(event.eventId)).toBe(traceId);
    });
  });

  it('never holds a checkout up, even while a publish hangs with the batch locked', async () => {
    const cart = { items: [{ productId: 2, quantity: 1 }] };
    expect((await postOrder(h.base, newUserId(), newKey(), cart)).status).toBe(201);
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let publishing = false;
    const relay = createOutboxRelay({
      pool: h.pool,
      amqp: {
        ...broker,
        async publish(...args) {
          publishing = true;
          await gate;
          return broker.publish(...args);
        },
      },
      exchange,
      log,
      registry: createRegistry('orders', 'test'),
      pollMs: 20,
    });
    const batch = relay.relayOnce();
    try {
      await until(() => publishing);
      const res = await postOrder(h.base, newUserId(), newKey(), cart, AbortSignal.timeout(3_000));
      expect(res.status).toBe(201);
    } finally {
      release();
      await batch;
    }
  });

  it('exports its metrics in a form promtool accepts', async () => {
    const text = await (await fetch(`${h.base}/metrics`)).text();
    expect(text).toMatch(/^outbox_published_messages_total\{event_type="order.paid"\} [1-9]/m);
    expect(text).toMatch(/^outbox_backlog_messages \d+$/m);
    expect(text).toMatch(/^outbox_oldest_message_age_seconds [\d.e-]+$/m);
    expect(text).toMatch(/^orders_created_total\{status="paid"\} [1-9]/m);
    expect(text).toMatch(/^orders_checkout_duration_seconds_bucket\{le="0.3",outcome="paid"\} \d+$/m);
    expect(() => execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })).not.toThrow();
  });
});
