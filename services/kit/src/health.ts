import type { RequestHandler } from 'express';

/** A readiness check: resolves when the dependency answers, throws (or times out) when it does not. */
export type Check = () => Promise<unknown>;

const CHECK_TIMEOUT_MS = 2_000;

async function runCheck(check: Check): Promise<{ ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

/** Liveness says the process can answer; it never looks at dependencies (a restart would not fix them). */
export const live: RequestHandler = (_req, res) => {
  res.json({ status: 'live' });
};

/** Readiness checks this service's own dependencies; a load balancer stops sending traffic on 503. */
export function ready(checks: Record<string, Check>, isShuttingDown: () => boolean): RequestHandler {
  return async (_req, res) => {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((name) => runCheck(checks[name])));
    const report = Object.fromEntries(names.map((name, i) => [name, results[i]]));
    const ok = !isShuttingDown() && results.every((result) => result.ok);
    res
      .status(ok ? 200 : 503)
      .json({ status: ok ? 'ready' : 'not ready', shuttingDown: isShuttingDown(), checks: report });
  };
}

/** Readiness of a service's own MySQL schema: one round trip on its pool. */
export const mysqlCheck =
  (pool: { query: (sql: string) => Promise<unknown> }): Check =>
  () =>
    pool.query('SELECT 1');

/** Readiness of its RabbitMQ connection (the client reconnects by itself; this says whether it is there). */
export const amqpCheck =
  (amqp: { isConnected: () => boolean }): Check =>
  async () => {
    if (!amqp.isConnected()) throw new Error('not connected');
  };
