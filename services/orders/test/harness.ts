import path from 'node:path';
import { createLogger, createRegistry, serve, type Registry } from '@shopnow/kit';
import { createPool, migrate, type Pool } from '@shopnow/kit/mysql';
import { createApp } from '../src/app';
import type { Order } from '../src/orders';
import { useReadCommitted } from '../src/db';
import { testDatabase } from '../../../test/support/backends';
import { PaymentsDouble, startCatalog } from './doubles';

export const database = testDatabase('orders');

export const log = createLogger('orders-test', 'error');
// Failures are part of the scenarios: keep their log lines out of the test output.
log.silent = true;

/** Product prices the catalog double knows; any other id is unknown to it. */
export const PRICES: Record<number, number> = { 1: 1250, 2: 999, 3: 4500 };

/** Users far above the seeded 1..5000, a fresh one per call, so suites sharing the schema never see each other's orders. */
export const newUserId = () => 1_000_000 + Math.floor(Math.random() * 1_000_000_000);

export const migrateSchema = () => migrate(database.url, path.join(__dirname, '..', 'migrations'), log);

export interface Harness {
  base: string;
  catalogUrl: string;
  pool: Pool;
  registry: Registry;
  payments: PaymentsDouble;
  close(): Promise<void>;
}

/** The orders app on port 0 against the test schema, with the catalog and payments doubles. */
export async function startHarness(options: { paymentsTimeoutMs?: number } = {}): Promise<Harness> {
  await migrateSchema();
  const registry = createRegistry('orders', 'test');
  const pool = useReadCommitted(createPool(database.url, { name: 'orders', connectionLimit: 5, registry }));
  const catalog = await startCatalog(PRICES);
  const payments = new PaymentsDouble();
  await payments.start();
  const app = createApp({
    log,
    registry,
    pool,
    catalogUrl: catalog.url,
    paymentsUrl: payments.url,
    catalogTimeoutMs: 1_000,
    paymentsTimeoutMs: options.paymentsTimeoutMs ?? 2_000,
  });
  const running = await serve(app, { port: 0, host: '127.0.0.1', log, handleSignals: false });
  return {
    base: `http://127.0.0.1:${running.port}`,
    catalogUrl: catalog.url,
    pool,
    registry,
    payments,
    async close() {
      await running.stop();
      await Promise.all([catalog.close(), payments.stop()]);
      await pool.end();
    },
  };
}

export function identity(userId: number, roles = 'customer'): Record<string, string> {
  return { 'x-user-id': String(userId), 'x-user-roles': roles };
}

export function postOrder(
  base: string,
  userId: number,
  key: string | undefined,
  body: unknown,
  signal?: AbortSignal,
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...identity(userId) };
  if (key !== undefined) headers['idempotency-key'] = key;
  return fetch(`${base}/orders`, { method: 'POST', headers, body: JSON.stringify(body), signal });
}

/** What the API answers, loosely: each response fills the fields of its kind. */
export interface ApiBody {
  order: Order;
  orders: Order[];
  page: number;
  pageSize: number;
  error: { code: string; message: string; details: { orderId: string; productId: number } };
}
export const bodyOf = (res: Response) => res.json() as Promise<ApiBody>;

export const newKey = () => `key-${Math.random().toString(36).slice(2)}-${Date.now()}`;

export async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
