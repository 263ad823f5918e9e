import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  bodyOf,
  connectBroker,
  metricValue,
  orderCreated,
  fetchReservation,
  startInventory,
  fetchStock,
  uniqueTopology,
  until,
  type ErrorBody,
} from './support';

const outcome = (name: string) => `inventory_reservations_total{outcome="${name}"}`;

describe('inventory consuming order.created (MariaDB, RabbitMQ)', () => {
  const topology = uniqueTopology();
  let inventory: Awaited<ReturnType<typeof startInventory>>;
  let broker: Awaited<ReturnType<typeof connectBroker>>;
  const get = (path: string) => fetch(`${inventory.base}${path}`);
  const stockOf = (productId: number) => fetchStock(inventory.base, productId);
  const reservationOf = (orderId: string) => fetchReservation(inventory.base, orderId);
  const processed = async (name: string) => metricValue(await inventory.metrics(), outcome(name));

  beforeAll(async () => {
    inventory = await startInventory(topology);
    broker = await connectBroker();
  });
  afterAll(async () => {
    await inventory.stop();
    await broker.deleteTopology(topology);
    await broker.close();
  });

  it('is ready once MySQL and RabbitMQ answer', async () => {
    const res = await get('/health/ready');
    expect(res.status).toBe(200);
    expect((await bodyOf<{ checks: unknown }>(res)).checks).toEqual({ mysql: { ok: true }, rabbitmq: { ok: true } });
  });

  it('reserves the stock of an order once', async () => {
    const [before10, before11] = [await stockOf(10), await stockOf(11)];
    const event = orderCreated([
      { productId: 10, quantity: 2, priceCents: 500 },
      { productId: 11, quantity: 1, priceCents: 300 },
      { productId: 10, quantity: 1, priceCents: 500 },
    ]);
    await broker.publish(topology.exchange, 'order.created', event);
    await until(async () => (await reservationOf(event.order.id)) !== undefined);
    expect(await reservationOf(event.order.id)).toEqual({
      orderId: event.order.id,
      status: 'reserved',
      items: [
        { productId: 10, quantity: 3 },
        { productId: 11, quantity: 1 },
      ],
    });
    expect([await stockOf(10), await stockOf(11)]).toEqual([before10 - 3, before11 - 1]);
  });

  it('applies an event delivered twice only once, and counts the duplicate', async () => {
    const before = await stockOf(12);
    const duplicates = await processed('duplicate');
    const event = orderCreated([{ productId: 12, quantity: 5, priceCents: 100 }]);
    await broker.publish(topology.exchange, 'order.created', event);
    await broker.publish(topology.exchange, 'order.created', event);
    await until(async () => (await processed('duplicate')) === duplicates + 1);
    expect(await stockOf(12)).toBe(before - 5);
    expect((await reservationOf(event.order.id))?.status).toBe('reserved');
  });

  it('rejects an order when a line lacks stock, and leaves every line untouched', async () => {
    const [before13, before14] = [await stockOf(13), await stockOf(14)];
    const event = orderCreated([
      { productId: 13, quantity: 1, priceCents: 100 },
      { productId: 14, quantity: before14 + 1, priceCents: 100 },
    ]);
    const rejected = await processed('out_of_stock');
    await broker.publish(topology.exchange, 'order.created', event);
    await until(async () => (await reservationOf(event.order.id)) !== undefined);
    expect((await reservationOf(event.order.id))?.status).toBe('rejected');
    expect([await stockOf(13), await stockOf(14)]).toEqual([before13, before14]);
    expect(await processed('out_of_stock')).toBe(rejected + 1);
  });

  it('dead-letters malformed messages instead of retrying them', async () => {
    const wrongShape = { ...orderCreated([{ productId: 15, quantity: 1, priceCents: 1 }]), order: { id: 'nope' } };
    const wrongType = { ...orderCreated([{ productId: 15, quantity: 1, priceCents: 1 }]), type: 'order.paid' };
    await broker.publish(topology.exchange, 'order.created', wrongShape);
    await broker.publish(topology.exchange, 'order.created', wrongType);
    await broker.publish(topology.exchange, 'order.created', '{not json');
    const dead: string[] = [];
    await until(async () => {
      const message = await broker.channel.get(`${topology.queue}.dlq`, { noAck: true });
      if (message) dead.push(message.content.toString());
      return dead.length === 3;
    });
    expect(dead).toContain('{not json');
    const text = await inventory.metrics();
    const consumed = (result: string) =>
      metricValue(text, `messaging_client_consumed_messages_total{queue="${topology.queue}",outcome="${result}"}`);
    expect(consumed('dead_letter')).toBe(3);
    expect(consumed('requeue')).toBeNaN();
    expect((await broker.channel.checkQueue(topology.queue)).messageCount).toBe(0);
    expect(await stockOf(15)).toBeGreaterThan(0);
  });

  it.each([
    ['/stock/abc', 400],
    ['/stock/-1', 400],
    ['/stock/1.5', 400],
    ['/stock/0', 400],
    ['/stock/99999999999999999999', 400],
    ['/stock/999999999', 404],
    ['/reservations/not-a-uuid', 400],
    [`/reservations/${randomUUID()}`, 404],
  ])('answers GET %s with %i', async (path, status) => {
    const res = await get(path);
    expect(res.status).toBe(status);
    expect((await bodyOf<ErrorBody>(res)).error.code).toEqual(expect.any(String));
  });

  it('exports its queue depths and metrics that promtool accepts', async () => {
    const text = await inventory.metrics();
    expect(metricValue(text, `messaging_queue_messages{queue="${topology.queue}"}`)).toBe(0);
    expect(text).toContain(`messaging_queue_messages{queue="${topology.queue}.dlq"}`);
    expect(() => execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })).not.toThrow();
  });
});
