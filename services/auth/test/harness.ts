import { createLogger, createRegistry, serve, type RunningServer } from '@shopnow/kit';
import { createPool, migrate, type Pool } from '@shopnow/kit/mysql';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { testDatabase } from '../../../test/support/backends';
import { createApp } from '../src/app';
import type { TokenSettings } from '../src/tokens';

export const TOKENS: TokenSettings = {
  secret: 'test-secret-that-is-at-least-32-characters',
  issuer: 'shopnow-auth',
  audience: 'shopnow',
  ttlSeconds: 3600,
};

export const log = createLogger('auth', 'error');

/** A unique address per test, so suites sharing the test schema never collide. */
export const uniqueEmail = (label = 'user') => `${label}-${randomUUID()}@example.test`;

export interface User {
  id: number;
  email: string;
  name: string;
  roles: string[];
}

export interface ErrorBody {
  error: { code: string; message: string };
}

export interface Harness {
  pool: Pool;
  url: string;
  /** The body is typed by the caller as what the endpoint is expected to answer. */
  request<T = ErrorBody>(
    method: string,
    path: string,
    options?: { body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: T; text: string }>;
  close(): Promise<void>;
}

/** The auth app on the real test schema, listening on a free port. */
export async function startAuth(): Promise<Harness> {
  const db = testDatabase('auth');
  await migrate(db.url, path.join(__dirname, '..', 'migrations'), log);
  const registry = createRegistry('auth', 'test');
  const pool = createPool(db.url, { name: 'auth', connectionLimit: 5, registry });
  const server: RunningServer = await serve(createApp({ log, registry, pool, tokens: TOKENS }), {
    port: 0,
    host: '127.0.0.1',
    log,
    handleSignals: false,
  });
  const url = `http://127.0.0.1:${server.port}`;
  return {
    pool,
    url,
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
      return { status: response.status, body: (isJson ? JSON.parse(text) : undefined) as T, text };
    },
    async close() {
      await server.stop();
      await pool.end();
    },
  };
}
