// notifications owns the `notifications` schema: one order confirmation per paid order.
// It consumes order.paid from its own queue `notifications.order-events` and talks to MySQL.
// It teaches pub-sub (a queue per subscriber), dead-letter queues and poison messages.
import path from 'node:path';
import {
  commonEnv,
  createFaults,
  createLogger,
  createRegistry,
  loadConfig,
  ORDER_PAID,
  port,
  runService,
  serve,
} from '@shopnow/kit';
import { amqpEnv, consumeEvents } from '@shopnow/kit/amqp';
import { mysqlEnv, openDatabase } from '@shopnow/kit/mysql';
import { z } from 'zod';
import { createApp } from './app';
import { orderPaidHandler } from './notifications';

const env = commonEnv.extend({
  ...mysqlEnv,
  ...amqpEnv,
  PORT: port.default(8086),
  NOTIFICATIONS_QUEUE: z.string().min(1).default('notifications.order-events'),
  NOTIFICATIONS_PREFETCH: z.coerce.number().int().positive().default(10),
});

runService('notifications', async () => {
  const config = loadConfig(env);
  const log = createLogger('notifications', config.LOG_LEVEL);
  const registry = createRegistry('notifications', config.SERVICE_VERSION);
  const faults = createFaults('notifications');
  const migrations = path.join(__dirname, '..', 'migrations');
  const pool = await openDatabase(config, { name: 'notifications', migrations, registry, faults, log });
  // Pub-sub: a queue of its own gets a copy of every order.paid, whatever other consumers do.
  const amqp = consumeEvents({
    url: config.AMQP_URL,
    exchange: config.EVENTS_EXCHANGE,
    queue: config.NOTIFICATIONS_QUEUE,
    routingKeys: [ORDER_PAID],
    prefetch: config.NOTIFICATIONS_PREFETCH,
    handler: orderPaidHandler({ pool, registry, log }),
    faults,
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
});
