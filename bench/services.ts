import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { provisionSchema } from '@shopnow/kit/mysql';
import type * as LabApi from 'lab/exercise-api';
import { tryFetch, until } from './lib.ts';

/**
 * The seven services as lite mode runs them (the lab's own topology: same commands, flags and
 * wiring), on other ports, schemas, exchange and queues, so that two variants run side by side
 * and neither touches a lab that is up on the same machine. Their logs go to a file.
 */
export interface Services {
  gateway: string;
  pids: Record<string, number>;
  url: (name: string) => string;
  stop: () => Promise<void>;
}

const MYSQL_ADMIN_URL = process.env.MYSQL_ADMIN_URL ?? 'mysql://root@127.0.0.1:3306';

export async function startServices(options: {
  name: string; // a-z: names the schemas (bench<name>_...), exchange, queues and log file
  basePort: number;
  env: Record<string, string>; // what differs between the variants
  logFile: string;
  root?: string; // a built copy of the repository (bench/compare.ts snapshot): its services and topology
  only?: string[]; // the instances to start; all seven services by default
}): Promise<Services> {
  const { name, basePort } = options;
  const root = options.root ?? path.resolve(import.meta.dirname, '..');
  // The lab's public export as `root` resolves it: this tree's, or a snapshot's own copy.
  const api = createRequire(path.join(root, 'package.json')).resolve('lab/exercise-api');
  const { components, labPaths } = (await import(api)) as typeof LabApi;
  const env: Record<string, string> = {
    JWT_SECRET: randomBytes(32).toString('base64url'),
    ADMIN_EMAIL: 'admin@shopnow.test',
    ADMIN_PASSWORD: randomBytes(12).toString('base64url'),
    SEED_ORDERS: '1000',
    PROVIDER_DECLINE_RATE: '0',
    PROVIDER_LATENCY_MS: '20',
    RATE_LIMIT_POINTS: '1000000',
    LAB_TOKEN: randomBytes(24).toString('base64url'),
  };
  const services = ['auth', 'catalog', 'orders', 'payments', 'inventory', 'notifications'];
  for (const service of services) env[`${service.toUpperCase()}_DB_PASSWORD`] = `bench-${service}`;
  const plan = components({
    paths: labPaths({ LAB_HOME: '/nonexistent' }),
    env,
    basePort,
    schemaPrefix: `bench${name}_`,
    root,
  }).filter((component) => component.kind === 'service' && (!options.only || options.only.includes(component.name)));
  for (const { schema } of plan)
    if (schema) await provisionSchema(MYSQL_ADMIN_URL, schema.name, schema.user, schema.password);

  const perRun = {
    EVENTS_EXCHANGE: `bench.${name}.events`,
    INVENTORY_QUEUE: `bench.${name}.inventory`,
    NOTIFICATIONS_QUEUE: `bench.${name}.notifications`,
    // e.g. BENCH_NODE_OPTIONS='--cpu-prof --cpu-prof-dir=/tmp/prof': a profile per service at its exit.
    ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
    ...options.env,
  };
  const log = fs.openSync(options.logFile, 'a');
  const children: ChildProcess[] = plan.map(({ command, args, env: componentEnv }) =>
    spawn(command, args, { stdio: ['ignore', log, log], env: { PATH: process.env.PATH, ...componentEnv, ...perRun } }),
  );
  fs.closeSync(log);
  const stop = async () => {
    await Promise.all(
      children.map((child) =>
        child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve).kill('SIGTERM')) : undefined,
      ),
    );
  };
  try {
    await Promise.all(
      plan.map(({ name: instance, health }, i) =>
        until(
          async () => {
            if (children[i].exitCode !== null) throw new Error(`${instance} exited; see ${options.logFile}`);
            return (await tryFetch(health))?.ok || undefined;
          },
          120_000,
          `${instance} ready`,
        ),
      ),
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    gateway: `http://127.0.0.1:${basePort}`,
    pids: Object.fromEntries(plan.map(({ name: instance }, i) => [instance, children[i].pid ?? 0])),
    url: (instance) => plan.find((c) => c.name === instance)?.url ?? '',
    stop,
  };
}

/** Takes OTLP/HTTP exports and drops them: the services pay for making and sending their spans and logs. */
export function otlpSink(port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}
