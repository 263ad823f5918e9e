import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { AMQP_URL, REDIS_URL, testDatabase, type ServiceWithSchema } from './backends';

/**
 * Runs ShopNow as separate real processes, the way production does:
 * `node --require @shopnow/kit/telemetry services/<name>/dist/main.js`, one process per service
 * and two catalog replicas, on their own schemas (e2e_*), exchange and queues, and ports that do
 * not collide with a lab running on the same machine.
 */
const ROOT = path.resolve(__dirname, '../..');
const TELEMETRY = path.join(ROOT, 'services/kit/dist/telemetry.js');

export interface Instance {
  name: string;
  service: string;
  port: number;
  url: string;
  lines: Record<string, unknown>[];
  child: ChildProcess;
  exit: Promise<number | null>;
}

export interface Stack {
  gateway: string;
  instances: Instance[];
  instance(name: string): Instance;
  secrets: { jwtSecret: string; adminEmail: string; adminPassword: string };
  /** SIGTERM to every process; resolves with each one's exit code. */
  stop(): Promise<Record<string, number | null>>;
}

export async function startStack(options: {
  basePort: number;
  otlpEndpoint: string;
  seedOrders: number;
}): Promise<Stack> {
  if (!existsSync(TELEMETRY)) throw new Error('services are not built: run `make build` (or `npx tsc -b`) first');
  const port = (offset: number) => options.basePort + offset;
  const local = (offset: number) => `http://127.0.0.1:${port(offset)}`;
  const run = randomUUID().slice(0, 8);
  const secrets = {
    jwtSecret: randomBytes(32).toString('base64url'),
    adminEmail: 'admin@shopnow.test',
    adminPassword: randomBytes(12).toString('base64url'),
  };
  const mysql = (service: ServiceWithSchema) => testDatabase(service, 'e2e').url;
  const shared = {
    AMQP_URL,
    REDIS_URL,
    EVENTS_EXCHANGE: `e2e.events.${run}`,
    JWT_SECRET: secrets.jwtSecret,
    SEED_PRODUCTS: '1000',
  };
  const plan: Array<{ name: string; service: string; offset: number; env: Record<string, string> }> = [
    {
      name: 'auth',
      service: 'auth',
      offset: 1,
      env: { MYSQL_URL: mysql('auth'), ADMIN_EMAIL: secrets.adminEmail, ADMIN_PASSWORD: secrets.adminPassword },
    },
    {
      name: 'catalog-1',
      service: 'catalog',
      offset: 2,
      env: { MYSQL_URL: mysql('catalog'), INSTANCE_ID: 'catalog-1' },
    },
    {
      name: 'catalog-2',
      service: 'catalog',
      offset: 12,
      env: { MYSQL_URL: mysql('catalog'), INSTANCE_ID: 'catalog-2' },
    },
    {
      name: 'payments',
      service: 'payments',
      offset: 4,
      env: { MYSQL_URL: mysql('payments'), PROVIDER_DECLINE_RATE: '0', PROVIDER_LATENCY_MS: '20' },
    },
    {
      name: 'orders',
      service: 'orders',
      offset: 3,
      env: {
        MYSQL_URL: mysql('orders'),
        CATALOG_URL: local(2),
        PAYMENTS_URL: local(4),
        SEED_ORDERS: String(options.seedOrders),
        OUTBOX_POLL_MS: '100',
      },
    },
    {
      name: 'inventory',
      service: 'inventory',
      offset: 5,
      env: { MYSQL_URL: mysql('inventory'), INVENTORY_QUEUE: `e2e.inventory.${run}` },
    },
    {
      name: 'notifications',
      service: 'notifications',
      offset: 6,
      env: { MYSQL_URL: mysql('notifications'), NOTIFICATIONS_QUEUE: `e2e.notifications.${run}` },
    },
    {
      name: 'gateway',
      service: 'gateway',
      offset: 0,
      env: {
        AUTH_URLS: local(1),
        CATALOG_URLS: `${local(2)},${local(12)}`,
        ORDERS_URLS: local(3),
        RATE_LIMIT_POINTS: '10000',
        HEALTH_CHECK_INTERVAL_MS: '500',
      },
    },
  ];

  const instances = plan.map(({ name, service, offset, env }): Instance => {
    const child = spawn(
      process.execPath,
      ['--require', TELEMETRY, path.join(ROOT, `services/${service}/dist/main.js`)],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env.PATH,
          HOST: '127.0.0.1',
          PORT: String(port(offset)),
          LOG_LEVEL: 'info',
          SERVICE_VERSION: '1.0.0',
          OTEL_SERVICE_NAME: service,
          OTEL_RESOURCE_ATTRIBUTES: `service.version=1.0.0,service.instance.id=${name}`,
          OTEL_EXPORTER_OTLP_ENDPOINT: options.otlpEndpoint,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_BSP_SCHEDULE_DELAY: '100',
          OTEL_BLRP_SCHEDULE_DELAY: '100',
          ...shared,
          ...env,
        },
      },
    );
    const lines: Record<string, unknown>[] = [];
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const parts = (pending + chunk.toString('utf8')).split('\n');
      pending = parts.pop() ?? '';
      for (const part of parts.filter(Boolean)) {
        try {
          lines.push(JSON.parse(part));
        } catch {
          lines.push({ unparsable: part });
        }
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => lines.push({ stderr: chunk.toString('utf8') }));
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { name, service, port: port(offset), url: local(offset), lines, child, exit };
  });

  const stack: Stack = {
    gateway: local(0),
    instances,
    secrets,
    instance: (name) => {
      const found = instances.find((instance) => instance.name === name);
      if (!found) throw new Error(`no instance ${name}`);
      return found;
    },
    async stop() {
      for (const { child } of instances) if (child.exitCode === null) child.kill('SIGTERM');
      const codes = await Promise.all(instances.map((instance) => instance.exit));
      return Object.fromEntries(instances.map((instance, i) => [instance.name, codes[i]]));
    },
  };

  try {
    await Promise.all(instances.map((instance) => waitReady(instance, 120_000)));
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return stack;
}

async function waitReady(instance: Instance, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (instance.child.exitCode !== null) {
      throw new Error(
        `${instance.name} exited with ${instance.child.exitCode}:\n${JSON.stringify(instance.lines.slice(-10), null, 1)}`,
      );
    }
    const ok = await fetch(`${instance.url}/health/ready`).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `${instance.name} not ready after ${timeoutMs} ms:\n${JSON.stringify(instance.lines.slice(-10), null, 1)}`,
  );
}

/** Polls until `probe` returns a value (not undefined), or fails after the deadline. */
export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
