// The seed's own process (started by orders' main.ts through seedInOwnProcess): it exits when the
// history is written, and the ~90 MiB of heap that writing 200,000 orders leaves behind goes with it.
import { createLogger, loadConfig, prom, type Registry } from '@shopnow/kit';
import { createPool } from '@shopnow/kit/mysql';
import { z } from 'zod';
import { seedOrders } from './seed';

// Orders holds an IPC channel to this process. Orders killed while it waits (a SIGTERM has no
// handler yet at startup) closes the channel: the seed stops too, rather than writing on unowned.
process.channel?.unref();
process.once('disconnect', () => process.exit(1));

async function main() {
  const env = loadConfig(
    z.object({
      MYSQL_URL: z.url(),
      SEED_ORDERS: z.coerce.number().int().min(0),
      LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'debug']).default('info'),
    }),
  );
  const log = createLogger('orders', env.LOG_LEVEL);
  const pool = createPool(env.MYSQL_URL, {
    name: 'orders-seed',
    connectionLimit: 1,
    registry: new prom.Registry() as Registry,
  });
  try {
    await seedOrders(pool, env.SEED_ORDERS, log);
  } finally {
    await pool.end();
  }
}

main().catch((err: unknown) => {
  createLogger('orders').error('seeding historic orders failed', { err });
  process.exit(1);
});
