import { Redis } from '@shopnow/kit/redis';
import { readEnv } from '../env-file';
import { LabError, UsageError } from '../errors';
import { currentMode } from '../mode';

import type { LabPaths } from '../paths';

export interface RedisResult {
  command: string[];
  reply: unknown;
}

// They never answer with one reply: they stream until the connection closes.
const STREAMING = new Set(['monitor', 'subscribe', 'psubscribe', 'ssubscribe']);

/** The Redis the lab's services use: the Docker stack publishes it with a password, lite mode reads REDIS_URL. */
function redisUrl(paths: LabPaths): string {
  const env = readEnv(paths.envFile);
  if (currentMode(paths) === 'full') return `redis://:${encodeURIComponent(env.REDIS_PASSWORD ?? '')}@127.0.0.1:6379`;
  return env.REDIS_URL || 'redis://127.0.0.1:6379';
}

/**
 * Runs one Redis command on the lab's Redis, as `redis-cli` would: what is cached (SCAN, TTL,
 * DBSIZE) and what Redis was asked (INFO commandstats) are how a cache is debugged.
 */
export async function runRedis(paths: LabPaths, command: string[]): Promise<RedisResult> {
  const [name, ...args] = command;
  if (STREAMING.has(name.toLowerCase()))
    throw new UsageError(`${name} streams without end; run one command that answers once`);
  const redis = new Redis(redisUrl(paths), { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 3_000 });
  try {
    await redis.connect().catch((err: Error) => {
      throw new LabError(`Redis did not answer (${err.message}): is the lab up?`);
    });
    const reply = await redis.call(name, ...args).catch((err: Error) => {
      throw new LabError(`Redis: ${err.message}`);
    });
    return { command, reply };
  } finally {
    redis.disconnect();
  }
}
