import { randomUUID } from 'node:crypto';
import { createLogger } from '../src/logger';
import { createRegistry } from '../src/metrics';
import { createCache, createRedis } from '../src/redis';
import { REDIS_URL } from '../../../test/support/backends';

const log = createLogger('kit-test', 'error');

describe('cache-aside over Redis', () => {
  const redis = createRedis(REDIS_URL, log);
  const down = createRedis('redis://127.0.0.1:1', log);
  afterAll(() => {
    redis.disconnect();
    down.disconnect();
  });

  it('misses, then hits, and loads again after invalidation', async () => {
    if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
    const registry = createRegistry('kit-test', '0');
    const cache = createCache({ redis, registry, name: 'things', ttlSeconds: () => 30, log });
    const key = `test:kit:${randomUUID()}`;
    let loads = 0;
    const load = async () => ({ n: ++loads });
    expect(await cache.getOrLoad(key, load)).toEqual({ n: 1 });
    expect(await cache.getOrLoad(key, load)).toEqual({ n: 1 });
    expect(await redis.ttl(key)).toBeGreaterThan(25);
    await cache.invalidate(key);
    expect(await cache.getOrLoad(key, load)).toEqual({ n: 2 });
    const text = await registry.metrics();
    expect(text).toContain('cache_requests_total{cache="things",result="hit"} 1');
    expect(text).toContain('cache_requests_total{cache="things",result="miss"} 2');
    await cache.invalidate(key);
  });

  it('serves from the source and counts an error when Redis is away', async () => {
    const registry = createRegistry('kit-test', '0');
    const cache = createCache({ redis: down, registry, name: 'things', ttlSeconds: () => 30, log });
    expect(await cache.getOrLoad('any', async () => 'from mysql')).toBe('from mysql');
    expect(await registry.metrics()).toContain('cache_requests_total{cache="things",result="error"} 1');
  });
});
