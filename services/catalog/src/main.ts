// catalog owns the `catalog` schema (products) and serves product reads and admin updates.
// It talks to MySQL, with Redis in front as a cache-aside; two replicas run the same code.
// It teaches caching: hit ratio, TTLs, invalidation, and degrading to MySQL when Redis is away.
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
import { mysqlEnv, openDatabase } from '@shopnow/kit/mysql';
import { createRedis, redisEnv } from '@shopnow/kit/redis';
import { z } from 'zod';
import { createApp } from './app';
import { seedProducts } from './seed';

const env = commonEnv.extend({
  ...mysqlEnv,
  ...redisEnv,
  PORT: port.default(8082),
  INSTANCE_ID: z.string().min(1).optional(),
  CACHE_TTL_SECONDS: z.coerce.number().int().min(0).default(60),
  SEED_PRODUCTS: z.coerce.number().int().min(0).default(1000),
});

runService('catalog', async () => {
  const config = loadConfig(env);
  const log = createLogger('catalog', config.LOG_LEVEL);
  const registry = createRegistry('catalog', config.SERVICE_VERSION);
  const faults = createFaults('catalog');
  const migrations = path.join(__dirname, '..', 'migrations');
  const pool = await openDatabase(config, { name: 'catalog', migrations, registry, faults, log });
  await seedProducts(pool, config.SEED_PRODUCTS, log);
  const redis = createRedis(config.REDIS_URL, log, config.REDIS_KEY_PREFIX);
  const app = createApp({
    log,
    registry,
    pool,
    redis,
    cacheTtlSeconds: () => config.CACHE_TTL_SECONDS,
    instanceId: config.INSTANCE_ID ?? `catalog-${config.PORT}`,
    faults,
    labToken: config.LAB_TOKEN,
    release: { version: config.SERVICE_VERSION, defectShare: config.RELEASE_DEFECT_SHARE },
  });
  await serve(app, {
    port: config.PORT,
    host: config.HOST,
    log,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    closers: [() => pool.end(), async () => redis.disconnect()],
  });
});
