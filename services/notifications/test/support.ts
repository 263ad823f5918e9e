import { randomUUID } from 'node:crypto';
import path from 'node:path';
import amqp from 'amqplib';
import { createLogger, createRegistry, ORDER_PAID, serve, type OrderEvent } from '@shopnow/kit';
import { consumeEvents } from '@shopnow/kit/amqp';
import { createPool, migrate } from '@shopnow/kit/mysql';
import { createApp } from '../src/app';
import { orderPaidHandler } from '../src/notifications';
import { AMQP_URL, testDatabase } from '../../../test/support/backends';

const log = createLogger('notifications-test', 'error');
// The poison messages below are logged as errors on purpose; they would only bury real failures.
log.silent = true;
const database = testDatabase('notifications');

export async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The service wired as main.ts wires it, on an exchange and a queue nobody else uses. */
export async function startNotifications() {
  const topology = { exchange: `test.events.${randomUUID()}`, queue: `test.notifications.${randomUUID()}` };
  await migrate(database.url, path.join(__dirname, '..', 'migrations'), log);
  const registry = createRegistry('notifications', 'test');
  const pool = createPool(database.url, { name: 'notifications', connectionLimit: 4, registry });
  const client = consumeEvents({
    url: AMQP_URL,
    ...topology,
    routingKeys: [ORDER_PAID],
    prefetch: 10,
    handler: orderPaidHandler({ pool, registry, log }),
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
    ...topology,
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

export function orderEventOf(type: OrderEvent['type'], orderId: string = randomUUID()): OrderEvent {
  return {
    eventId: randomUUID(),
    type,
    occurredAt: new Date().toISOString(),
    order: { id: orderId, userId: 42, totalCents: 1_500, items: [{ productId: 3, quantity: 3, priceCents: 500 }] },
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
