import { randomUUID } from 'node:crypto';
import path from 'node:path';
import amqp from 'amqplib';
import { createLogger, createRegistry, ORDER_CREATED, serve, type OrderEvent } from '@shopnow/kit';
import { createPool, migrate } from '@shopnow/kit/mysql';
import { createApp } from '../src/app';
import { consumeEvents } from '@shopnow/kit/amqp';
import { orderCreatedHandler } from '../src/reservations';
import { seedStock } from '../src/seed';
import { AMQP_URL, testDatabase } from '../../../test/support/backends';

export const SEEDED = 200;
export const INITIAL_STOCK = 1_000_000;
const log = createLogger('inventory-test', 'error');
// The poison messages below are logged as errors on purpose; they would only bury real failures.
log.silent = true;
const database = testDatabase('inventory');

export async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** An exchange and a queue nobody else uses, so parallel runs never steal each other's messages. */
export function uniqueTopology() {
  return { exchange: `test.events.${randomUUID()}`, queue: `test.inventory.${randomUUID()}` };
}

/** One inventory instance wired as main.ts wires it, against the test schema, on a free port. */
export async function startInventory({
  exchange,
  queue,
  prefetch = 10,
}: {
  exchange: string;
  queue: string;
  prefetch?: number;
}) {
  await migrate(database.url, path.join(__dirname, '..', 'migrations'), log);
  const registry = createRegistry('inventory', 'test');
  const pool = createPool(database.url, { name: 'inventory', connectionLimit: 4, registry });
  await seedStock(pool, SEEDED, INITIAL_STOCK, log);
  const client = consumeEvents({
    url: AMQP_URL,
    exchange,
    queue,
    routingKeys: [ORDER_CREATED],
    prefetch,
    handler: orderCreatedHandler({ pool, registry, log }),
    registry,
    log,
  });
  const running = await serve(createApp({ log, registry, pool, amqp: client }), {
    port: 0,
    host: '127.0.0.1',
    log,
    handleSignals: false,
  });
  await until(() => client.isConnected());
  const base = `http://127.0.0.1:${running.port}`;
  return {
    base,
    metrics: async () => (await fetch(`${base}/metrics`)).text(),
    async stop() {
      await running.stop();
      await client.close();
      await pool.end();
    },
  };
}

/** A raw connection, as the outbox relay of orders publishes: persistent, with the event id as messageId. */
export async function connectBroker() {
  const conn = await amqp.connect(AMQP_URL);
  const channel = await conn.createConfirmChannel();
  return {
    channel,
    async publish(exchange: string, routingKey: string, body: unknown) {
      const content = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      const messageId = (body as { eventId?: string }).eventId;
      channel.publish(exchange, routingKey, content, { persistent: true, contentType: 'application/json', messageId });
      await channel.waitForConfirms();
    },
    async deleteTopology({ exchange, queue }: { exchange: string; queue: string }) {
      await channel.deleteQueue(queue);
      await channel.deleteQueue(`${queue}.dlq`);
      await channel.deleteExchange(exchange);
    },
    close: () => conn.close(),
  };
}

export function orderCreated(items: OrderEvent['order']['items']): OrderEvent {
  return {
    eventId: randomUUID(),
    type: ORDER_CREATED,
    occurredAt: new Date().toISOString(),
    order: {
      id: randomUUID(),
      userId: 7,
      totalCents: items.reduce((sum, item) => sum + item.quantity * item.priceCents, 0),
      items,
    },
  };
}

/** The value of one series in a Prometheus text exposition (NaN when absent). */
export function metricValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : NaN;
}

/** A response body, typed as the test expects it to be (the assertions then check it). */
export const bodyOf = async <T>(res: Response): Promise<T> => (await res.json()) as T;
export interface ErrorBody {
  error: { code: string; message: string };
}

export async function fetchStock(base: string, productId: number): Promise<number> {
  return (await bodyOf<{ available: number }>(await fetch(`${base}/stock/${productId}`))).available;
}

interface Reservation {
  orderId: string;
  status: string;
  items: Array<{ productId: number; quantity: number }>;
}

/** The reservation of an order, or undefined while there is none. */
export async function fetchReservation(base: string, orderId: string): Promise<Reservation | undefined> {
  const res = await fetch(`${base}/reservations/${orderId}`);
  return res.status === 200 ? (await bodyOf<{ reservation: Reservation }>(res)).reservation : undefined;
}
