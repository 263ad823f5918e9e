import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { labPaths } from '../../lab/src/core/paths';
import { components } from '../../lab/src/core/topology';
import { provisionSchema } from '../../services/kit/src/mysql';
import {
  AMQP_URL,
  MYSQL_ADMIN_URL,
  REDIS_URL,
  SERVICES_WITH_SCHEMA,
  testDatabase,
  type ServiceWithSchema,
} from './backends';

/**
 * Runs ShopNow as separate real processes, exactly as lite mode does (the lab's own topology:
 * `node --require <kit>/telemetry services/<name>/dist/main.js`, two catalog replicas), on their
 * own schemas (e2e_*, and fresh ones for orders and `ownSchemas`), exchange, queues and ports, so
 * they never collide with a lab that is up on the same machine, nor with each other.
 */
const ROOT = path.resolve(__dirname, '../..');
const TELEMETRY = path.join(ROOT, 'services/kit/dist/telemetry.js');

export interface Instance {
  name: string;
  service: string;
  port: number;
  url: string;
  lines: Record<string, unknown>[];
  /** The running process; replaced by restart(). */
  child: ChildProcess;
  exit: Promise<number | null>;
  env: Record<string, string>;
}

export interface Stack {
  gateway: string;
  instances: Instance[];
  instance(name: string): Instance;
  secrets: { jwtSecret: string; adminEmail: string; adminPassword: string; labToken: string };
  /** Signals one instance and resolves with its exit code (null when a signal ended it). */
  kill(name: string, signal: NodeJS.Signals): Promise<number | null>;
  /** Starts a stopped instance again, with the same env and log, and waits until it is ready. */
  restart(name: string): Promise<void>;
  /** The schema each service uses: its own (orders, `ownSchemas`) or the shared `e2e_<service>`. */
  schemaOf(service: ServiceWithSchema): string;
  /** SIGTERM to every process, then drops the stack's own schemas; resolves with each one's exit code. */
  stop(): Promise<Record<string, number | null>>;
}

/** Services of one instance each, whose instance is named after the service. */
export type SingleInstanceService = Exclude<ServiceWithSchema, 'catalog'>;

export interface StackOptions {
  basePort: number;
  otlpEndpoint: string;
  seedOrders: number;
  /** Where the services find their backends instead of the real ones (e.g. a TcpProxy in between). */
  backends?: { mysql?: string; redis?: string; amqp?: string };
  /** Extra variables, by instance name (`catalog-1`, `inventory`...). */
  instanceEnv?: Record<string, Record<string, string>>;
  /** Services given fresh schemas of this stack's own, besides orders (which always has its own). */
  ownSchemas?: SingleInstanceService[];
}

/**
 * Fresh schemas of this stack's own for `services` (dropped again by `stop()`). Stacks side by side
 * share the e2e_* schemas; that is harmless for rows keyed by id, but not for the orders outbox:
 * every stack's relay claims any unpublished row and publishes it to its own broker exchange, so
 * another stack's consumers would apply this stack's orders (and this stack's would never see them).
 */
async function ownSchemas(basePort: number, services: SingleInstanceService[]) {
  const admin = await mysql.createConnection({ uri: MYSQL_ADMIN_URL });
  const host = new URL(MYSQL_ADMIN_URL).host;
  const env: Record<string, Record<string, string>> = {};
  const schemas: Partial<Record<ServiceWithSchema, string>> = {};
  try {
    for (const service of services) {
      const schema = `e2e${basePort}_${service}`;
      const password = randomBytes(12).toString('base64url');
      await admin.query(`DROP DATABASE IF EXISTS \`${schema}\``);
      await provisionSchema(MYSQL_ADMIN_URL, schema, schema, password);
      env[service] = { MYSQL_URL: `mysql://${schema}:${password}@${host}/${schema}` };
      schemas[service] = schema;
    }
  } finally {
    await admin.end();
  }
  const drop = async () => {
    const conn = await mysql.createConnection({ uri: MYSQL_ADMIN_URL });
    for (const schema of Object.values(schemas)) await conn.query(`DROP DATABASE IF EXISTS \`${schema}\``);
    await conn.end();
  };
  return { env, schemas, drop };
}

export async function startStack(options: StackOptions): Promise<Stack> {
  if (!existsSync(TELEMETRY)) throw new Error('services are not built: run `make build` (or `npx tsc -b`) first');
  const run = randomUUID().slice(0, 8);
  const secrets = {
    jwtSecret: randomBytes(32).toString('base64url'),
    // Stacks running side by side share the e2e_auth schema: each needs its own admin account.
    adminEmail: `admin-${run}@shopnow.test`,
    adminPassword: randomBytes(12).toString('base64url'),
    labToken: randomBytes(24).toString('base64url'),
  };
  // The lab's own plan (ports, wiring, env), moved to other ports and the e2e_ schemas.
  const env: Record<string, string> = {
    JWT_SECRET: secrets.jwtSecret,
    ADMIN_EMAIL: secrets.adminEmail,
    ADMIN_PASSWORD: secrets.adminPassword,
    REDIS_URL: options.backends?.redis ?? REDIS_URL,
    AMQP_URL: options.backends?.amqp ?? AMQP_URL,
    SEED_ORDERS: String(options.seedOrders),
    PROVIDER_DECLINE_RATE: '0',
    PROVIDER_LATENCY_MS: '20',
    RATE_LIMIT_POINTS: '10000',
    LISTING_RATE_LIMIT_POINTS: '10000',
    LAB_TOKEN: secrets.labToken,
  };
  for (const service of SERVICES_WITH_SCHEMA)
    env[`${service.toUpperCase()}_DB_PASSWORD`] = testDatabase(service, 'e2e').password;
  const plan = components({
    paths: labPaths({ LAB_HOME: '/nonexistent' }),
    env,
    basePort: options.basePort,
    schemaPrefix: 'e2e_',
  }).filter((component) => component.kind === 'service');
  // Each run has its own exchange, queues and Redis keys (cache, rate-limit counters), and sends its
  // spans and logs to the test's receiver.
  const perRun = {
    EVENTS_EXCHANGE: `e2e.events.${run}`,
    INVENTORY_QUEUE: `e2e.inventory.${run}`,
    NOTIFICATIONS_QUEUE: `e2e.notifications.${run}`,
    REDIS_KEY_PREFIX: `e2e.${run}:`,
    OUTBOX_POLL_MS: '100',
    HEALTH_CHECK_INTERVAL_MS: '500',
    // scrypt on a machine busy with parallel suites can outlast the default 2 s; login latency is not under test here.
    AUTH_TIMEOUT_MS: '10000',
    OTEL_EXPORTER_OTLP_ENDPOINT: options.otlpEndpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_BLRP_SCHEDULE_DELAY: '100',
  };

  // Another process on one of these ports would answer the readiness checks in our place.
  const taken = (await Promise.all(plan.map(async ({ port }) => ((await answers(port)) ? port : 0)))).filter(Boolean);
  if (taken.length > 0) throw new Error(`ports already in use: ${taken.join(', ')}; choose another basePort`);

  const own = await ownSchemas(options.basePort, [...new Set(['orders' as const, ...(options.ownSchemas ?? [])])]);
  const instances = plan.map(({ name, job, port, url, env: componentEnv }): Instance => {
    const instanceEnv: Record<string, string> = {
      ...componentEnv,
      ...perRun,
      ...own.env[name],
      ...options.instanceEnv?.[name],
    };
    if (options.backends?.mysql && instanceEnv.MYSQL_URL)
      instanceEnv.MYSQL_URL = moveHost(instanceEnv.MYSQL_URL, options.backends.mysql);
    return launch({ name, service: job, port, url, lines: [], env: instanceEnv });
  });
  function launch(instance: Omit<Instance, 'child' | 'exit'>): Instance {
    const { command, args } = plan.find((component) => component.name === instance.name) ?? plan[0];
    const child = spawn(command, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, ...instance.env },
    });
    const { lines } = instance;
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
    return Object.assign(instance, { child, exit });
  }

  const stack: Stack = {
    gateway: `http://127.0.0.1:${options.basePort}`,
    instances,
    secrets,
    instance: (name) => {
      const found = instances.find((instance) => instance.name === name);
      if (!found) throw new Error(`no instance ${name}`);
      return found;
    },
    kill(name, signal) {
      const { child, exit } = stack.instance(name);
      child.kill(signal);
      return exit;
    },
    async restart(name) {
      const instance = stack.instance(name);
      if (instance.child.exitCode === null && instance.child.signalCode === null)
        throw new Error(`${name} is still running`);
      await waitReady(launch(instance), 60_000);
    },
    schemaOf: (service) => own.schemas[service] ?? `e2e_${service}`,
    async stop() {
      for (const { child } of instances)
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const codes = await Promise.all(instances.map((instance) => instance.exit));
      await own.drop();
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

/** Whether something already accepts connections on a loopback port. */
const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(1_000, () => socket.destroy());
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });

/** The same URL with the host and port of `to` (e.g. a proxy's), keeping user, password and schema. */
function moveHost(url: string, to: string): string {
  const moved = new URL(url);
  const target = new URL(to);
  moved.hostname = target.hostname;
  moved.port = target.port;
  return moved.toString();
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
