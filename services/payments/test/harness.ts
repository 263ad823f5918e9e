import { createLogger, createRegistry, serve, type RunningServer } from '@shopnow/kit';
import { createPool, migrate, type Pool } from '@shopnow/kit/mysql';
import type { RowDataPacket } from 'mysql2/promise';
import path from 'node:path';
import { testDatabase } from '../../../test/support/backends';
import { createApp } from '../src/app';
import type { ProviderSettings } from '../src/provider';

export interface Payment {
  id: string;
  orderId: string;
  amountCents: number;
  currency: string;
  status: 'approved' | 'declined';
  declineReason?: string;
  createdAt: string;
}

export interface ErrorBody {
  error: { code: string; message: string };
}

export interface Reply<T> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface Harness {
  pool: Pool;
  /** The body is typed by the caller as what the endpoint is expected to answer. */
  request<T = ErrorBody>(
    method: string,
    path: string,
    options?: { body?: unknown; headers?: Record<string, string> },
  ): Promise<Reply<T>>;
  /** How many payments are stored for an order: the truth about double charges. */
  countPayments(orderId: string): Promise<number>;
  close(): Promise<void>;
}

const log = createLogger('payments', 'error');

/** The payments app on the real test schema, listening on a free port, with the given provider. */
export async function startPayments(provider: ProviderSettings): Promise<Harness> {
  const db = testDatabase('payments');
  await migrate(db.url, path.join(__dirname, '..', 'migrations'), log);
  const registry = createRegistry('payments', 'test');
  const pool = createPool(db.url, { name: 'payments', connectionLimit: 5, registry });
  const server: RunningServer = await serve(createApp({ log, registry, pool, provider }), {
    port: 0,
    host: '127.0.0.1',
    log,
    handleSignals: false,
  });
  const url = `http://127.0.0.1:${server.port}`;
  return {
    pool,
    async request<T>(
      method: string,
      route: string,
      { body, headers = {} }: { body?: unknown; headers?: Record<string, string> } = {},
    ) {
      const response = await fetch(`${url}${route}`, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      const isJson = (response.headers.get('content-type') ?? '').includes('json');
      return {
        status: response.status,
        headers: response.headers,
        body: (isJson ? JSON.parse(text) : undefined) as T,
        text,
      };
    },
    async countPayments(orderId) {
      const [rows] = await pool.execute<RowDataPacket[]>('SELECT COUNT(*) AS n FROM payments WHERE order_id = ?', [
        orderId,
      ]);
      return Number(rows[0].n);
    },
    async close() {
      await server.stop();
      await pool.end();
    },
  };
}
