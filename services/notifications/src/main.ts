// notifications owns the `notifications` schema: one order confirmation per paid order.
// It consumes order.paid from its own queue `notifications.order-events` and talks to MySQL.
// It teaches pub-sub (a queue per subscriber), dead-letter queues and poison messages.
import path from 'node:path';
import { commonEnv, createFaults, createLogger, createRegistry, loadConfig, serve } from '@shopnow/kit';
import { EVENTS_EXCHANGE } from '@shopnow/kit/amqp';
import { createPool, migrate } from '@shopnow/kit/mysql';
import { z } from 'zod';
import { createApp } from './app';
import { consumeOrderPaid } from './notifications';

const env = commonEnv.extend({
  PORT: z.coerce.number().int().min(0).max(65_535).default(8086),
  MYSQL_URL: z.string().min(1),
  MYSQL_POOL_SIZE: z.coerce.number().int().positive().default(10),
  AMQP_URL: z.string().min(1).default('amqp://127.0.0.1:5672'),
  EVENTS_EXCHANGE: z.string().min(1).default(EVENTS_EXCHANGE),
  NOTIFICATIONS_QUEUE: z.string().min(1).default('notifications.order-events'),
  NOTIFICATIONS_PREFETCH: z.coerce.number().int().positive().default(10),
});

async function main() {
  const config = loadConfig(env);
  const log = createLogger('notifications', config.LOG_LEVEL);
  const registry = createRegistry('notifications', config.SERVICE_VERSION);
  await migrate(config.MYSQL_URL, path.join(__dirname, '..', 'migrations'), log);
  const faults = createFaults('notifications');
  const pool = createPool(config.MYSQL_URL, {
    name: 'notifications',
    connectionLimit: config.MYSQL_POOL_SIZE,
    registry,
    faults,
  });
  const amqp = consumeOrderPaid({
    url: config.AMQP_URL,
    exchange: config.EVENTS_EXCHANGE,
    queue: config.NOTIFICATIONS_QUEUE,
    prefetch: config.NOTIFICATIONS_PREFETCH,
    faults,
    pool,
    registry,
    log,
  });
  const release = { version: config.SERVICE_VERSION, defectShare: config.RELEASE_DEFECT_SHARE };
  await serve(createApp({ log, registry, pool, amqp, faults, labToken: config.LAB_TOKEN, release }), {
    port: config.PORT,
    host: config.HOST,
    log,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    // Stop taking messages and finish those in hand before the pool they need goes away.
    closers: [() => amqp.close(), () => pool.end()],
  });
}

main().catch((err: unknown) => {
  createLogger('notifications').error('notifications failed to start', { err });
  process.exit(1);
});
