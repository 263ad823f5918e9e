import { randomUUID } from 'node:crypto';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { api, bearer } from '../support/client';
import { MYSQL_ADMIN_URL } from '../support/backends';
import { every, record, sample, scrape, signUp, sleep, startProxiedStack, type ProxiedStack } from './harness';
import { eventually } from '../support/eventually';
import { TEST_LABS } from '../support/test-labs';

/**
 * RabbitMQ away for 30 s under checkout load (2 checkouts/s before, during and after): checkouts
 * keep succeeding because orders only writes to its outbox; once the broker is back every
 * committed order's events are delivered, and inventory and notifications apply each exactly once.
 */
jest.setTimeout(180_000);

const OUTAGE_MS = 30_000;
const CALM_MS = 5_000;

let lab: ProxiedStack;
let db: mysql.Connection;

beforeAll(async () => {
  // Its own orders schema: on the shared one, another stack's outbox relay (stacks run side by side)
  // would publish this stack's held-back events to its own broker exchange during the outage. And
  // its own inventory and notifications schemas, so that only this stack's consumers apply them.
  lab = await startProxiedStack({
    basePort: TEST_LABS['broker-cut'].basePort,
    ownSchemas: ['orders', 'inventory', 'notifications'],
  });
  db = await mysql.createConnection({ uri: MYSQL_ADMIN_URL });
});

afterAll(async () => {
  await db?.end();
  await lab?.stop();
});

interface Checkout {
  phase: 'before' | 'outage' | 'after';
  status: number;
  ms: number;
  productId: number;
  orderId?: string;
}

it('loses no event and applies each exactly once across a 30 s broker outage', async () => {
  const { stack, proxies } = lab;
  const customer = await signUp(stack.gateway, 'broker-cut');
  // Products only this suite orders, so the stock it checks moves for its orders alone.
  const products = [950, 951, 952].map((id) => id + Math.floor(Math.random() * 15) * 3);
  const stock = async (productId: number) =>
    ((await api(stack.instance('inventory').url, 'GET', `/stock/${productId}`)).json as { available: number })
      .available;
  const stockBefore = await Promise.all(products.map(stock));

  let phase: Checkout['phase'] = 'before';
  const checkouts: Checkout[] = [];
  const load = every(500, async () => {
    const started = Date.now();
    const current = phase;
    const productId = products[checkouts.length % products.length];
    const reply = await api(
      stack.gateway,
      'POST',
      '/api/orders',
      { items: [{ productId, quantity: 1 }] },
      { ...bearer(customer.token), 'idempotency-key': `broker-cut-${randomUUID()}` },
    ).catch(() => ({ status: 0, json: undefined }));
    const orderId = (reply.json as { order?: { id: string } } | undefined)?.order?.id;
    checkouts.push({ phase: current, status: reply.status, ms: Date.now() - started, productId, orderId });
  });

  await sleep(CALM_MS);
  phase = 'outage';
  await proxies.amqp.cut();
  const cutAt = Date.now();
  await sleep(OUTAGE_MS / 2);
  // Halfway through, the orders the outage held back wait in the outbox.
  const backlogDuringOutage = sample(await scrape(stack.instance('orders').url), 'outbox_backlog_messages') ?? 0;
  await sleep(OUTAGE_MS / 2);
  await proxies.amqp.restore();
  const restoredAt = Date.now();
  phase = 'after';
  await sleep(CALM_MS);
  await load.stop();

  const placed = checkouts.filter((checkout) => checkout.status === 201 && checkout.orderId);
  const orderIds = placed.map((checkout) => String(checkout.orderId));
  const duringOutage = checkouts.filter((checkout) => checkout.phase === 'outage');
  expect(duringOutage.length).toBeGreaterThanOrEqual(50);
  expect(checkouts.filter((checkout) => checkout.status !== 201)).toEqual([]);

  // Delivered: the outbox is empty again and both consumers have applied every order.
  const inList = orderIds.map(() => '?').join(',');
  await eventually('every event delivered and applied', 60_000, async () => {
    const backlog = sample(await scrape(stack.instance('orders').url), 'outbox_backlog_messages');
    const [[{ reserved }]] = await db.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS reserved FROM ${lab.schemaOf('inventory')}.reservations WHERE order_id IN (${inList})`,
      orderIds,
    );
    const [[{ notified }]] = await db.query<RowDataPacket[]>(
      `SELECT COUNT(DISTINCT order_id) AS notified FROM ${lab.schemaOf('notifications')}.notifications WHERE order_id IN (${inList})`,
      orderIds,
    );
    return backlog === 0 && reserved === orderIds.length && notified === orderIds.length ? true : undefined;
  });
  const drainedMs = Date.now() - restoredAt;

  // Exactly once: one paid order row, one reservation, one notification and one unit of stock per checkout.
  const [[orders]] = await db.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS total, SUM(status = 'paid') AS paid FROM ${lab.schemaOf('orders')}.orders WHERE id IN (${inList})`,
    orderIds,
  );
  const [[outbox]] = await db.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS events, SUM(published_at IS NULL) AS unpublished FROM ${lab.schemaOf('orders')}.outbox
      WHERE JSON_UNQUOTE(JSON_EXTRACT(payload, '$.order.id')) IN (${inList})`,
    orderIds,
  );
  const [notifications] = await db.query<RowDataPacket[]>(
    `SELECT order_id, COUNT(*) AS n FROM ${lab.schemaOf('notifications')}.notifications WHERE order_id IN (${inList}) GROUP BY order_id`,
    orderIds,
  );
  const [lines] = await db.query<RowDataPacket[]>(
    `SELECT product_id, SUM(quantity) AS units FROM ${lab.schemaOf('inventory')}.reservation_lines WHERE order_id IN (${inList}) GROUP BY product_id`,
    orderIds,
  );
  const stockAfter = await Promise.all(products.map(stock));

  expect(Number(orders.total)).toBe(orderIds.length);
  expect(Number(orders.paid)).toBe(orderIds.length);
  // order.created and order.paid for each order, all published.
  expect(Number(outbox.events)).toBe(orderIds.length * 2);
  expect(Number(outbox.unpublished)).toBe(0);
  expect(notifications.filter((row) => Number(row.n) !== 1)).toEqual([]);
  expect(notifications).toHaveLength(orderIds.length);
  expect(lines.reduce((sum, row) => sum + Number(row.units), 0)).toBe(orderIds.length);
  expect(stockBefore.map((before, i) => before - stockAfter[i])).toEqual(
    products.map((id) => placed.filter((checkout) => checkout.productId === id).length),
  );

  const inventoryText = await scrape(stack.instance('inventory').url);
  const ms = duringOutage.map((checkout) => checkout.ms).sort((a, b) => a - b);
  record('broker-cut', {
    outageMs: restoredAt - cutAt,
    checkouts: checkouts.length,
    checkoutsDuringOutage: duringOutage.length,
    failedCheckouts: checkouts.filter((checkout) => checkout.status !== 201).length,
    checkoutP50MsDuringOutage: ms[Math.floor(ms.length / 2)],
    checkoutMaxMsDuringOutage: ms[ms.length - 1],
    outboxBacklogMidOutage: backlogDuringOutage,
    ordersPaid: Number(orders.paid),
    eventsPublished: Number(outbox.events),
    reservationsApplied: lines.reduce((sum, row) => sum + Number(row.units), 0),
    notificationsApplied: notifications.length,
    duplicatesSkippedByInventory: sample(inventoryText, 'inventory_reservations_total', { outcome: 'duplicate' }) ?? 0,
    drainedMsAfterRestore: drainedMs,
  });
  for (const instance of stack.instances) expect(instance.child.exitCode).toBeNull();
});
