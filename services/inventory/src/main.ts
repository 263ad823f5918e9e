// inventory owns the `inventory` schema: stock per product and one reservation per order.
// It consumes order.created from the work queue `inventory.order-created` and talks to MySQL.
// It teaches the queue model: competing consumers, prefetch, consumer lag, idempotent consumers.
import path from 'node:path';
import {
  commonEnv,
  createFaults,
  createLogger,
  createRegistry,
  loadConfig,
  ORDER_CREATED,
  port,
  runService,
  serve,
} from '@shopnow/kit';
import { amqpEnv, consumeEvents } from '@shopnow/kit/amqp';
import { mysqlEnv, openDatabase } from '@shopnow/kit/mysql';
import { z } from 'zod';
import { createApp } from './app';
import { orderCreatedHandler } from './reservations';
import { seedStock } from './seed';

const env = commonEnv.extend({
  ...mysqlEnv,
  ...amqpEnv,
  PORT: port.default(8085),
  INVENTORY_QUEUE: z.string().min(1).default('inventory.order-created'),
  INVENTORY_PREFETCH: z.coerce.number().int().positive().default(10),
  SEED_PRODUCTS: z.coerce.number().int().min(0).default(1000),
  INITIAL_STOCK: z.coerce.number().int().min(0).max(4_294_967_295).default(1_000_000),
});

runService('inventory', async () => {
  const config = loadConfig(env);
  const log = createLogger('inventory', config.LOG_LEVEL);
  const registry = createRegistry('inventory', config.SERVICE_VERSION);
  const faults = createFaults('inventory');
  const migrations = path.join(__dirname, '..', 'migrations');
  const pool = await openDatabase(config, { name: 'inventory', migrations, registry, faults, log });
  await seedStock(pool, config.SEED_PRODUCTS, config.INITIAL_STOCK, log);
  // The work queue: every inventory instance consumes the same queue (competing consumers).
  const amqp = consumeEvents({
    url: config.AMQP_URL,
    exchange: config.EVENTS_EXCHANGE,
    queue: config.INVENTORY_QUEUE,
    routingKeys: [ORDER_CREATED],
    prefetch: config.INVENTORY_PREFETCH,
    handler: orderCreatedHandler({ pool, registry, log }),
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
