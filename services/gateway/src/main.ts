// The gateway owns no data: it is ShopNow's only public entry (port 8080), stateless, in front of
// auth, catalog (several replicas) and orders, with Redis for the shared rate limits. It teaches
// an API gateway's jobs: routing, JWT checks, rate limiting, load balancing, timeouts, retries, circuit breaking.
import {
  commonEnv,
  createFaults,
  createLogger,
  createRegistry,
  loadConfig,
  port,
  runService,
  secret,
  serve,
  urlList,
} from '@shopnow/kit';
import { createRedis, redisEnv } from '@shopnow/kit/redis';
import { z } from 'zod';
import { createApp } from './app';
import { answerUnparsable } from './request-body';

const replicas = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .pipe(urlList)
    .refine((urls) => urls.every((url) => url.startsWith('http://')), 'the gateway speaks plain http to services');

const schema = commonEnv.extend({
  ...redisEnv,
  PORT: port.default(8080),
  JWT_SECRET: secret(32),
  JWT_ISSUER: z.string().min(1).default('shopnow-auth'),
  JWT_AUDIENCE: z.string().min(1).default('shopnow'),
  AUTH_URLS: replicas('http://127.0.0.1:8081'),
  CATALOG_URLS: replicas('http://127.0.0.1:8082'),
  ORDERS_URLS: replicas('http://127.0.0.1:8083'),
  RATE_LIMIT_POINTS: z.coerce.number().int().positive().default(50),
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().positive().default(1),
  // All clients together on the product listing: what catalog's listing query was sized for.
  LISTING_RATE_LIMIT_POINTS: z.coerce.number().int().positive().default(40),
  HEALTH_CHECK_INTERVAL_MS: z.coerce.number().int().min(100).default(2_000),
  // How long one try at each upstream may take (orders' checkout includes the payment).
  AUTH_TIMEOUT_MS: z.coerce.number().int().min(1).default(2_000),
  CATALOG_TIMEOUT_MS: z.coerce.number().int().min(1).default(1_000),
  ORDERS_TIMEOUT_MS: z.coerce.number().int().min(1).default(5_000),
});

runService('gateway', async () => {
  const env = loadConfig(schema);
  const log = createLogger('gateway', env.LOG_LEVEL);
  const registry = createRegistry('gateway', env.SERVICE_VERSION);
  const redis = createRedis(env.REDIS_URL, log, env.REDIS_KEY_PREFIX);
  const faults = createFaults('gateway');

  const { app, close } = createApp({
    log,
    registry,
    redis,
    faults,
    labToken: env.LAB_TOKEN,
    release: { version: env.SERVICE_VERSION, defectShare: env.RELEASE_DEFECT_SHARE },
    jwt: { secret: env.JWT_SECRET, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE },
    rateLimit: {
      points: env.RATE_LIMIT_POINTS,
      windowSeconds: env.RATE_LIMIT_WINDOW_SECONDS,
      keyPrefix: 'gateway:ratelimit',
      routeBudgets: { '/api/products': env.LISTING_RATE_LIMIT_POINTS },
    },
    upstreams: [
      { name: 'auth', urls: env.AUTH_URLS },
      { name: 'catalog', urls: env.CATALOG_URLS },
      { name: 'orders', urls: env.ORDERS_URLS },
    ],
    // A check times out well inside the interval, so checks of one replica never pile up.
    health: { intervalMs: env.HEALTH_CHECK_INTERVAL_MS, timeoutMs: 1_000, unhealthyAfter: 2 },
    proxy: {
      // Per upstream, from what it does: catalog reads from cache or one indexed query; auth hashes
      // passwords (slow on purpose); orders waits for payments during a checkout.
      timeoutsMs: { auth: env.AUTH_TIMEOUT_MS, catalog: env.CATALOG_TIMEOUT_MS, orders: env.ORDERS_TIMEOUT_MS },
      // Two retries at most, 25-100 ms apart with jitter, and never more than 20% extra load.
      retry: {
        maxRetries: 2,
        backoffMs: { min: 25, max: 100 },
        budget: { ratio: 0.2, minPerWindow: 3, windowMs: 10_000 },
      },
      // Opens when more than half of at least 10 calls in 10 s failed (opossum compares with >);
      // after 5 s one probe may close it again.
      breaker: { errorThresholdPercentage: 50, volumeThreshold: 10, rollingWindowMs: 10_000, resetTimeoutMs: 5_000 },
      bodyLimitBytes: 64 * 1024,
    },
  });

  const { server } = await serve(app, {
    port: env.PORT,
    host: env.HOST,
    log,
    // Every request has finished by now, so nothing is waiting on Redis.
    closers: [close, async () => redis.disconnect()],
    timeoutMs: env.SHUTDOWN_TIMEOUT_MS,
  });
  // What Node cannot parse gets a JSON error and a graceful close too, not a reset.
  answerUnparsable(server);
});
