// catalog owns the `catalog` schema (products) and serves product reads and admin updates.
// It talks to MySQL, with Redis in front as a cache-aside; two replicas run the same code.
// It teaches caching: hit ratio, TTLs, invalidation, and degrading to MySQL when Redis is away.
import path from 'node:path';
import { commonEnv, createFaults, createLogger, createRegistry, loadConfig, serve } from '@shopnow/kit';
import { createPool, migrate } from '@shopnow/kit/mysql';
import { createRedis } from '@shopnow/kit/redis';
import { z } from 'zod';
import { createApp } from './app';
import { seedProducts } from './seed';

const env = commonEnv.extend({
  PORT: z.coerce.number().int().min(0).max(65_535).default(8082),
  INSTANCE_ID: z.string().min(1).optional(),
  MYSQL_URL: z.string().min(1),
  MYSQL_POOL_SIZE: z.coerce.number().int().positive().default(10),
  REDIS_URL: z.string().min(1).default('redis://127.0.0.1:6379'),
  REDIS_KEY_PREFIX: z.string().default(''),
  CACHE_TTL_SECONDS: z.coerce.number().int().min(0).default(60),
  SEED_PRODUCTS: z.coerce.number().int().min(0).default(1000),
});

async function main() {
  const config = loadConfig(env);
  const log = createLogger('catalog', config.LOG_LEVEL);
  const registry = createRegistry('catalog', config.SERVICE_VERSION);
  await migrate(config.MYSQL_URL, path.join(__dirname, '..', 'migrations'), log);
  const faults = createFaults('catalog');
  const pool = createPool(config.MYSQL_URL, {
    name: 'catalog',
    connectionLimit: config.MYSQL_POOL_SIZE,
    registry,
    faults,
  });
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
}

main().catch((err: unknown) => {
  createLogger('catalog').error('catalog failed to start', { err });
  process.exit(1);
});
