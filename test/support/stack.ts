import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { labPaths } from '../../lab/src/paths';
import { components } from '../../lab/src/topology';
import { AMQP_URL, REDIS_URL, SERVICES_WITH_SCHEMA, testDatabase } from './backends';

/**
 * Runs ShopNow as separate real processes, exactly as lite mode does (the lab's own topology:
 * `node --require <kit>/telemetry services/<name>/dist/main.js`, two catalog replicas), on their
 * own schemas (e2e_*), exchange, queues and ports, so they never collide with a lab that is up on
 * the same machine.
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
  const run = randomUUID().slice(0, 8);
  const secrets = {
    jwtSecret: randomBytes(32).toString('base64url'),
    adminEmail: 'admin@shopnow.test',
    adminPassword: randomBytes(12).toString('base64url'),
  };
  // The lab's own plan (ports, wiring, env), moved to other ports and the e2e_ schemas.
  const env: Record<string, string> = {
    JWT_SECRET: secrets.jwtSecret,
    ADMIN_EMAIL: secrets.adminEmail,
    ADMIN_PASSWORD: secrets.adminPassword,
    REDIS_URL,
    AMQP_URL,
    SEED_ORDERS: String(options.seedOrders),
    PROVIDER_DECLINE_RATE: '0',
    PROVIDER_LATENCY_MS: '20',
    RATE_LIMIT_POINTS: '10000',
    LAB_TOKEN: randomBytes(24).toString('base64url'),
  };
  for (const service of SERVICES_WITH_SCHEMA)
    env[`${service.toUpperCase()}_DB_PASSWORD`] = testDatabase(service, 'e2e').password;
  const plan = components({
    paths: labPaths({ LAB_HOME: '/nonexistent' }),
    env,
    basePort: options.basePort,
    schemaPrefix: 'e2e_',
  }).filter((component) => component.kind === 'service');
  // Each run has its own exchange and queues, and sends its spans and logs to the test's receiver.
  const perRun = {
    EVENTS_EXCHANGE: `e2e.events.${run}`,
    INVENTORY_QUEUE: `e2e.inventory.${run}`,
    NOTIFICATIONS_QUEUE: `e2e.notifications.${run}`,
    OUTBOX_POLL_MS: '100',
    HEALTH_CHECK_INTERVAL_MS: '500',
    OTEL_EXPORTER_OTLP_ENDPOINT: options.otlpEndpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_BLRP_SCHEDULE_DELAY: '100',
  };

  const instances = plan.map(({ name, job, port, url, command, args, env: componentEnv }): Instance => {
    const child = spawn(command, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, ...componentEnv, ...perRun },
    });
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
    return { name, service: job, port, url, lines, child, exit };
  });

  const stack: Stack = {
    gateway: `http://127.0.0.1:${options.basePort}`,
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
