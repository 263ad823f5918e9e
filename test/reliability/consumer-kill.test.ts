import { randomUUID } from 'node:crypto';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { api, bearer } from '../support/client';
import { MYSQL_ADMIN_URL } from '../support/backends';
import { eventually } from '../support/stack';
import { record, sample, scrape, signUp, sleep, startProxiedStack, type ProxiedStack } from './harness';

/**
 * The inventory consumer dies (SIGKILL) in the middle of its messages: the broker redelivers what
 * it never acknowledged to the restarted consumer, which applies each order exactly once. The
 * consumer is made slow through the kit's consumer-stall fault so the kill lands mid-message.
 */
jest.setTimeout(120_000);

// Long enough that no message finishes before the kill, however slow the machine; the kill ends the wait.
const DELAY_MS = 30_000;
let lab: ProxiedStack;
let db: mysql.Connection;

beforeAll(async () => {
  lab = await startProxiedStack({ basePort: 21480 });
  db = await mysql.createConnection({ uri: MYSQL_ADMIN_URL });
});

afterAll(async () => {
  await db?.end();
  await lab?.stop();
});

it('redelivers the messages a killed consumer held and applies each exactly once', async () => {
  const { stack } = lab;
  const inventory = stack.instance('inventory');
  const slow = await api(
    inventory.url,
    'PUT',
    '/admin/faults/consumer-stall',
    { mode: 'slow', delayMs: DELAY_MS },
    { 'x-lab-token': stack.secrets.labToken },
  );
  expect(slow.status).toBe(200);

  const customer = await signUp(stack.gateway, 'consumer-kill');
  const productId = 700 + Math.floor(Math.random() * 100);
  const stockOf = async () =>
    ((await api(inventory.url, 'GET', `/stock/${productId}`)).json as { available: number }).available;
  const stockBefore = await stockOf();
  const orderIds: string[] = [];
  for (let i = 0; i < 3; i += 1) {
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
  // Published, delivered and being processed: the outbox is empty and inventory holds them unacked.
  await eventually(async () =>
    sample(await scrape(stack.instance('orders').url), 'outbox_backlog_messages') === 0 ? true : undefined,
  );
  await sleep(500);
  const inList = orderIds.map(() => '?').join(',');
  const reservations = async () =>
    Number(
      (
        await db.query<RowDataPacket[]>(
          `SELECT COUNT(*) AS n FROM e2e_inventory.reservations WHERE order_id IN (${inList})`,
          orderIds,
        )
      )[0][0].n,
    );
  expect(await reservations()).toBe(0);
  const killedAt = Date.now();
  expect(await stack.kill('inventory', 'SIGKILL')).toBeNull();
  expect(await reservations()).toBe(0);

  // The restarted consumer has no fault switched on (faults live in the process).
  await stack.restart('inventory');
  await eventually(async () => ((await reservations()) === orderIds.length ? true : undefined), 30_000, 'reservations');
  const appliedMs = Date.now() - killedAt;
  // Past the redelivery, nothing more arrives: still one reservation per order, stock moved once.
  await sleep(1_000);
  const [lines] = await db.query<RowDataPacket[]>(
    `SELECT order_id, SUM(quantity) AS units FROM e2e_inventory.reservation_lines WHERE order_id IN (${inList}) GROUP BY order_id`,
    orderIds,
  );
  const text = await scrape(inventory.url);
  record('consumer-sigkill', {
    ordersInFlightAtKill: orderIds.length,
    appliedBeforeKill: 0,
    reservationsAfterRestart: await reservations(),
    unitsReserved: lines.reduce((sum, row) => sum + Number(row.units), 0),
    stockMoved: stockBefore - (await stockOf()),
    acksAfterRestart: sample(text, 'messaging_client_consumed_messages_total', { outcome: 'ack' }),
    msFromKillToApplied: appliedMs,
  });
  expect(lines.map((row) => Number(row.units))).toEqual(orderIds.map(() => 2));
  expect(stockBefore - (await stockOf())).toBe(orderIds.length * 2);
  expect(sample(text, 'inventory_reservations_total', { outcome: 'reserved' })).toBe(orderIds.length);
});
