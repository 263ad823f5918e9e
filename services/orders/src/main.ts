// orders owns the `orders` schema (orders, order_items, outbox). A checkout prices the cart from
// catalog and charges payments over HTTP, then announces the order on RabbitMQ through an outbox.
// It teaches sync vs async calls, idempotency keys and the transactional outbox.
import path from 'node:path';
import {
  commonEnv,
  createFaults,
  createLogger,
  createRegistry,
  loadConfig,
  port,
  runService,
  serve,
} from '@shopnow/kit';
import { amqpEnv, createAmqp } from '@shopnow/kit/amqp';
import { mysqlEnv, openDatabase } from '@shopnow/kit/mysql';
import { z } from 'zod';
import { createApp } from './app';
import { useReadCommitted } from './db';
import { createOutboxRelay } from './outbox';
import { seedInOwnProcess } from './seed';

const positiveInt = z.coerce.number().int().positive();
const baseUrl = z.url().transform((url) => url.replace(/\/+$/, ''));

const envSchema = commonEnv.extend({
  ...mysqlEnv,
  ...amqpEnv,
  PORT: port.default(8083),
  CATALOG_URL: baseUrl.default('http://127.0.0.1:8082'),
  PAYMENTS_URL: baseUrl.default('http://127.0.0.1:8084'),
  CATALOG_TIMEOUT_MS: positiveInt.default(1_000),
  PAYMENTS_TIMEOUT_MS: positiveInt.default(2_000),
  OUTBOX_POLL_MS: positiveInt.default(200),
  SEED_ORDERS: z.coerce.number().int().min(0).default(200_000),
});

runService('orders', async () => {
  const env = loadConfig(envSchema);
  const log = createLogger('orders', env.LOG_LEVEL);
  const registry = createRegistry('orders', env.SERVICE_VERSION);

  const faults = createFaults('orders');
  const migrations = path.join(__dirname, '..', 'migrations');
  const pool = useReadCommitted(await openDatabase(env, { name: 'orders', migrations, registry, faults, log }));
  if (env.SEED_ORDERS > 0) await seedInOwnProcess(env.MYSQL_URL, env.SEED_ORDERS, env.LOG_LEVEL);

  // orders only publishes: each consumer declares and binds its own queue.
  const amqp = createAmqp({
    url: env.AMQP_URL,
    log,
    registry,
    faults,
    topology: async (channel) => {
      await channel.assertExchange(env.EVENTS_EXCHANGE, 'topic', { durable: true });
    },
  });
  const relay = createOutboxRelay({
    pool,
    amqp,
    exchange: env.EVENTS_EXCHANGE,
    log,
    registry,
    pollMs: env.OUTBOX_POLL_MS,
    faults,
  });

  const app = createApp({
    log,
    registry,
    pool,
    catalogUrl: env.CATALOG_URL,
    paymentsUrl: env.PAYMENTS_URL,
    catalogTimeoutMs: env.CATALOG_TIMEOUT_MS,
    paymentsTimeoutMs: env.PAYMENTS_TIMEOUT_MS,
    faults,
    labToken: env.LAB_TOKEN,
    release: { version: env.SERVICE_VERSION, defectShare: env.RELEASE_DEFECT_SHARE },
  });
  relay.start();
  await serve(app, {
    port: env.PORT,
    host: env.HOST,
    log,
    timeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    closers: [() => relay.stop(), () => amqp.close(), () => pool.end()],
  });
});
