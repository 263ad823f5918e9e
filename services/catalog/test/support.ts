import path from 'node:path';
import { createLogger, createRegistry, serve } from '@shopnow/kit';
import { createPool, migrate } from '@shopnow/kit/mysql';
import { createRedis, type Redis } from '@shopnow/kit/redis';
import { createApp } from '../src/app';
import { seedProducts } from '../src/seed';
import { REDIS_URL, testDatabase } from '../../../test/support/backends';

export const SEEDED = 300;
export const log = createLogger('catalog-test', 'error');
const database = testDatabase('catalog');

/** A Redis database of its own per test file, so cached pages of one never answer the other. */
export function redisDatabase(index: number): string {
  const url = new URL(REDIS_URL);
  url.pathname = `/${index}`;
  return url.toString();
}

/** The app wired as main.ts wires it, against the test schema, listening on a free port. */
export async function startCatalog(redisUrl: string, instanceId = 'catalog-test') {
  await migrate(database.url, path.join(__dirname, '..', 'migrations'), log);
  const registry = createRegistry('catalog', 'test');
  const pool = createPool(database.url, { name: 'catalog', connectionLimit: 4, registry });
  await seedProducts(pool, SEEDED, log);
  const redis = createRedis(redisUrl, log);
  const app = createApp({ log, registry, pool, redis, cacheTtlSeconds: () => 60, instanceId });
  const running = await serve(app, { port: 0, host: '127.0.0.1', log, handleSignals: false });
  return {
    base: `http://127.0.0.1:${running.port}`,
    redis,
    async stop() {
      await running.stop();
      await pool.end();
      redis.disconnect();
    },
  };
}

export async function redisReady(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
}

export const ADMIN = { 'x-user-id': '1', 'x-user-roles': 'admin' };
export const CUSTOMER = { 'x-user-id': '2', 'x-user-roles': 'customer' };

export function put(url: string, body: unknown, headers: Record<string, string> = ADMIN) {
  return fetch(url, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** A counter's current value, read the way Prometheus reads it: from the /metrics text. */
export async function metricValue(base: string, series: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : NaN;
}

/** A response body, typed as the test expects it to be (the assertions then check it). */
export const bodyOf = async <T>(res: Response): Promise<T> => (await res.json()) as T;
export interface ErrorBody {
  error: { code: string; message: string };
}
