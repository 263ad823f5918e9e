import { randomUUID } from 'node:crypto';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { api, bearer } from '../support/client';
import { MYSQL_ADMIN_URL } from '../support/backends';
import { record, sample, scrape, signUp, startProxiedStack, type ProxiedStack } from './harness';
import { eventually } from '../support/eventually';
import { TEST_LABS } from '../support/test-labs';

/**
 * The inventory consumer dies (SIGKILL) in the middle of its messages: the broker redelivers what
 * it never acknowledged to the restarted consumer, which applies each order exactly once. The
 * consumer is made slow through the kit's consumer-stall fault so the kill lands mid-message.
 */
jest.setTimeout(180_000);

// Long enough that no message finishes before the kill, however slow the machine; the kill ends the wait.
const DELAY_MS = 30_000;
const ORDERS = 3;
let lab: ProxiedStack;
let db: mysql.Connection;

beforeAll(async () => {
  // Its own orders schema, so that only this stack's outbox relay publishes these orders (another
  // stack's relay would hand them to its own inventory, which is not stalled), and its own
  // inventory schema, so that only these orders move the stock it checks.
  lab = await startProxiedStack({ basePort: TEST_LABS['consumer-kill'].basePort, ownSchemas: ['orders', 'inventory'] });
  db = await mysql.createConnection({ uri: MYSQL_ADMIN_URL });
});

afterAll(async () => {
  await db?.end();
  await lab?.stop();
});

it('redelivers the messages a killed consumer held and applies each exactly once', async () => {
  const { stack } = lab;
  const inventory = stack.instance('inventory');
  const orders = stack.instance('orders');
  const labToken = { 'x-lab-token': stack.secrets.labToken };
  const slow = await api(
    inventory.url,
    'PUT',
    '/admin/faults/consumer-stall',
    { mode: 'slow', delayMs: DELAY_MS },
    labToken,
  );
  expect(slow.status).toBe(200);
  // Confirmed in force before anything is published: the process itself lists the fault.
  const listed = await api(inventory.url, 'GET', '/admin/faults', undefined, labToken);
  expect(JSON.stringify(listed.json)).toContain('consumer-stall');

  const customer = await signUp(stack.gateway, 'consumer-kill');
  const productId = 700 + Math.floor(Math.random() * 100);
  const stockOf = async () =>
    ((await api(inventory.url, 'GET', `/stock/${productId}`)).json as { available: number }).available;
  const stockBefore = await stockOf();
  const orderIds: string[] = [];
  for (let i = 0; i < ORDERS; i += 1) {
    const placed = await api(
      stack.gateway,
      'POST',
      '/api/orders',
      { items: [{ productId, quantity: 2 }] },
      { ...bearer(customer.token), 'idempotency-key': `consumer-kill-${randomUUID()}` },
    );
    expect(placed.status).toBe(201);
    orderIds.push((placed.json as { order: { id: string } }).order.id);
  }
  const inList = orderIds.map(() => '?').join(',');
  const reservations = async () =>
    Number(
      (
        await db.query<RowDataPacket[]>(
          `SELECT COUNT(*) AS n FROM ${lab.schemaOf('inventory')}.reservations WHERE order_id IN (${inList})`,
          orderIds,
        )
      )[0][0].n,
    );
  // In the consumer's hands: published (the outbox empty, the broker confirmed each order.created),
  // and delivered (none left ready in inventory's queue), so held unacknowledged (prefetch 10).
  await eventually('every order.created published and delivered to inventory', 30_000, async () => {
    const published = await scrape(orders.url);
    const queued = sample(await scrape(inventory.url), 'messaging_queue_messages');
    const confirmed =
      sample(published, 'messaging_client_sent_messages_total', {
        routing_key: 'order.created',
        outcome: 'confirmed',
      }) ?? 0;
    return sample(published, 'outbox_backlog_messages') === 0 && confirmed >= ORDERS && queued === 0 ? true : undefined;
  });
  expect(await reservations()).toBe(0);
  const killedAt = Date.now();
  expect(await stack.kill('inventory', 'SIGKILL')).toBeNull();
  expect(await reservations()).toBe(0);

  // The restarted consumer has no fault switched on (faults live in the process).
  await stack.restart('inventory');
  await eventually('reservations', 60_000, async () => ((await reservations()) === ORDERS ? true : undefined));
  const appliedMs = Date.now() - killedAt;
  // Done with the redelivered messages: each acknowledged, none left in the queue.
  const text = await eventually('the redelivered messages acknowledged', 30_000, async () => {
    const now = await scrape(inventory.url);
    const acks = sample(now, 'messaging_client_consumed_messages_total', { outcome: 'ack' }) ?? 0;
    return acks >= ORDERS && sample(now, 'messaging_queue_messages') === 0 ? now : undefined;
  });
  const [lines] = await db.query<RowDataPacket[]>(
    `SELECT order_id, SUM(quantity) AS units FROM ${lab.schemaOf('inventory')}.reservation_lines
      WHERE order_id IN (${inList}) GROUP BY order_id`,
    orderIds,
  );
  const stockAfter = await stockOf();
  record('consumer-sigkill', {
    ordersInFlightAtKill: orderIds.length,
    appliedBeforeKill: 0,
    reservationsAfterRestart: await reservations(),
    unitsReserved: lines.reduce((sum, row) => sum + Number(row.units), 0),
    stockMoved: stockBefore - stockAfter,
    acksAfterRestart: sample(text, 'messaging_client_consumed_messages_total', { outcome: 'ack' }),
    msFromKillToApplied: appliedMs,
  });
  expect(lines.map((row) => Number(row.units))).toEqual(orderIds.map(() => 2));
  expect(stockBefore - stockAfter).toBe(ORDERS * 2);
  expect(sample(text, 'inventory_reservations_total', { outcome: 'reserved' })).toBe(ORDERS);
  expect(sample(text, 'inventory_reservations_total', { outcome: 'duplicate' })).toBe(0);
  expect(sample(text, 'messaging_client_consumed_messages_total', { outcome: 'ack' })).toBe(ORDERS);
});
