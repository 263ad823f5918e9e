import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import type { Logger } from '@shopnow/kit';
import { withTransaction, type Pool } from '@shopnow/kit/mysql';
import * as db from './db';
import { hashRequest, totalOf } from './orders';

const ROWS_PER_STATEMENT = 5_000;
const YEAR_MS = 365 * 86_400_000;
const between = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));

function historicOrder(n: number, now: number) {
  const id = randomUUID();
  const productIds = new Set<number>();
  const lineCount = between(1, 3);
  while (productIds.size < lineCount) productIds.add(between(1, 1_000));
  const lines = [...productIds].map((productId) => ({
    orderId: id,
    productId,
    quantity: between(1, 3),
    priceCents: between(199, 19_999),
  }));
  const order = {
    id,
    userId: between(1, 5_000),
    // ':' is outside what the API accepts in a key, so seeded rows never collide with real checkouts.
    idempotencyKey: `seed:${n}`,
    requestHash: hashRequest(lines),
    status: 'paid' as const,
    totalCents: totalOf(lines),
    currency: 'EUR',
    paymentId: null,
    createdAt: new Date(now - Math.floor(Math.random() * YEAR_MS)),
  };
  return { order, lines };
}

/**
 * A year of history (paid orders of users 1..5000 for products 1..1000), so that a query that
 * loses its index has a real table to scan. Tops the seeded rows up to `wanted`: a second start
 * inserts nothing.
 */
export async function seedOrders(pool: Pool, wanted: number, log: Logger): Promise<number> {
  const existing = await db.countSeededOrders(pool);
  if (existing >= wanted) return 0;
  const started = performance.now();
  const now = Date.now();
  for (let first = existing; first < wanted; first += ROWS_PER_STATEMENT) {
    const batch = Array.from({ length: Math.min(ROWS_PER_STATEMENT, wanted - first) }, (_, i) =>
      historicOrder(first + i, now),
    );
    const orders = batch.map((entry) => entry.order);
    const lines = batch.flatMap((entry) => entry.lines);
    await withTransaction(pool, async (conn) => {
      await db.insertOrders(conn, orders);
      await db.insertLines(conn, lines);
    });
  }
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  log.info('historic orders seeded', { orders: wanted - existing, seconds });
  return wanted - existing;
}

/**
 * seedOrders in a child process (seed-main.ts), awaited: V8 keeps the pages of a heap that grew
 * once, so a service that wrote the history itself held ~90 MiB more for the rest of its life
 * (docs/benchmarks.md). The child writes its log lines to the same stdout.
 */
export async function seedInOwnProcess(mysqlUrl: string, wanted: number, logLevel: string): Promise<void> {
  // The compiled entry point, from dist/ itself or from src/ under the tests.
  const script = path.join(__dirname, '..', 'dist', 'seed-main.js');
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, MYSQL_URL: mysqlUrl, SEED_ORDERS: String(wanted), LOG_LEVEL: logLevel },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'], // the channel ends the child with orders
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (code !== 0) throw new Error(`seeding historic orders ended with ${signal ?? `exit code ${code}`}`);
}
