import { Redis } from 'ioredis';
import { z } from 'zod';
import { serviceUrl } from './config';
import type { Faults } from './faults/engine';
import type { Logger } from './logger';
import { prom, type Registry } from './metrics';

export { Redis };

/** What every service that talks to Redis reads. */
export const redisEnv = {
  REDIS_URL: serviceUrl('redis', 'rediss').default('redis://127.0.0.1:6379'),
  // Labs side by side on one Redis (the tests run several) share no key.
  REDIS_KEY_PREFIX: z.string().default(''),
};

/**
 * A Redis client that fails fast while Redis is away (no offline queue, one try per command), so
 * callers can degrade at once instead of hanging; it keeps reconnecting in the background.
 * `keyPrefix` goes before every key, so labs side by side on one Redis share no key.
 */
export function createRedis(url: string, log: Logger, keyPrefix = ''): Redis {
  const redis = new Redis(url, {
    keyPrefix,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
  let reported = false;
  redis.on('error', (err: Error) => {
    if (!reported) log.warn('redis unavailable', { err: err.message });
    reported = true;
  });
  redis.on('ready', () => {
    if (reported) log.info('redis reachable again');
    reported = false;
  });
  return redis;
}

export interface Cache {
  /** Cache-aside: the cached value if there is one, else load it from the source and cache it. */
  getOrLoad<T>(key: string, load: () => Promise<T>): Promise<T>;
  invalidate(...keys: string[]): Promise<void>;
}

/**
 * Cache-aside over Redis with a TTL. When Redis fails the value is loaded from the source
 * (degraded, slower) and counted as result="error", so the fallback shows on a dashboard.
 */
export function createCache(options: {
  redis: Redis;
  registry: Registry;
  name: string;
  ttlSeconds: () => number;
  log: Logger;
  faults?: Faults;
}): Cache {
  const { redis, name, log } = options;
  const requests = new prom.Counter({
    name: 'cache_requests_total',
    help: 'Cache lookups by result: hit, miss, or error (Redis failed and the source answered instead).',
    labelNames: ['cache', 'result'],
    registers: [options.registry],
  });
  for (const result of ['hit', 'miss', 'error']) requests.inc({ cache: name, result }, 0);

  return {
    async getOrLoad<T>(key: string, load: () => Promise<T>): Promise<T> {
      // FAULT(cache-bypass): skip the cache, cache nothing (TTL 0), or write under another key than is read.
      const broken = options.faults?.active('cache-bypass')?.mode;
      if (broken === 'bypass') {
        requests.inc({ cache: name, result: 'miss' });
        return load();
      }
      let cached: string | null;
      try {
        cached = await redis.get(key);
      } catch (err) {
        requests.inc({ cache: name, result: 'error' });
        log.debug('cache read failed, loading from source', { key, err: (err as Error).message });
        return load();
      }
      if (cached !== null) {
        requests.inc({ cache: name, result: 'hit' });
        return JSON.parse(cached) as T;
      }
      requests.inc({ cache: name, result: 'miss' });
      const value = await load();
      const ttl = broken === 'ttl-zero' ? 0 : options.ttlSeconds();
      const writeKey = broken === 'wrong-key' ? `${key}:${Date.now()}` : key;
      if (ttl > 0) await redis.set(writeKey, JSON.stringify(value), 'EX', ttl).catch(() => undefined);
      return value;
    },
    async invalidate(...keys: string[]): Promise<void> {
      if (keys.length > 0) await redis.del(...keys);
    },
  };
}
