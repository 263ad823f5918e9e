import { provisionSchema } from '@shopnow/kit/mysql';
import amqp from 'amqplib';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseEnv, renderEnv } from '../../lab/src/env-file';
import { AMQP_URL, MYSQL_ADMIN_URL } from '../support/backends';
import { hostPort, interpolate, loadCompose, translate, type ComposeService } from './compose-env';
import { build, exportImage, type Stage } from './image-build';

/**
 * The image, built and run without a Docker engine (docs/architecture.md): the Dockerfile's
 * stages are emulated (image-build.ts: a context of only what .dockerignore lets through, RUN
 * chrooted in an overlay), then every compose service of our image starts from the assembled
 * runtime tree with compose's own command and environment, as the image's USER, and must pass
 * the image's HEALTHCHECK, run as it is. Only what a container would find elsewhere is
 * translated: addresses (this machine's MariaDB, Redis and RabbitMQ; our ports moved into
 * 6080-6999), a bind mount, the test's secrets, and per-run names on the shared broker and Redis.
 * Heavy (a full npm ci and tsc -b): run it alone, under `flock /tmp/labtest.lock`.
 */
const ROOT = path.resolve(__dirname, '../..');
const TOOLS_BIN = path.join(ROOT, '.tools/node_modules/.bin');
const BASE_PATH = `${TOOLS_BIN}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;
const NPM_CACHE = spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).stdout.trim();
const OTLP_PORT = hostPort(4318);
const run = `${process.pid}`;
/** The user a container runs as: compose's `user:`, else the image's USER (node is 1000:1000). */
const IMAGE_USERS: Record<string, [number, number]> = { node: [1000, 1000] };

const compose = loadCompose(ROOT);
const ours = Object.entries(compose).filter(([, s]) => s.build !== undefined);

interface Started {
  name: string;
  env: Record<string, string>;
  uid: number;
  gid: number;
  child: ChildProcess;
  output: string[];
}

const work = mkdtempSync(path.join(os.tmpdir(), 'image-test-'));
const imageRoot = path.join(work, 'image');
const dotLab = path.join(work, 'dot-lab');
let image: Stage;
const started = new Map<string, Started>();
// A stand-in for the collector: accepts any OTLP export, so the SDKs do not log refusals.
const collector = http.createServer((req, res) => req.resume().on('end', () => res.writeHead(200).end('{}')));

/** The .env `lab up` writes (fresh secrets), plus what this machine's backends need. */
function envFile(): Record<string, string> {
  const env = parseEnv(renderEnv(readFileSync(path.join(ROOT, '.env.example'), 'utf8')));
  for (const name of Object.keys(env).filter((n) => n.endsWith('_DB_PASSWORD')))
    env[name] = `img-password-${name.split('_')[0].toLowerCase()}`;
  return {
    ...env,
    RABBITMQ_USER: 'guest',
    RABBITMQ_PASSWORD: 'guest',
    REDIS_PASSWORD: '',
    // What `lab up` passes: the owner of .lab/ (here, this process).
    LAB_UID: String(process.getuid?.()),
    LAB_GID: String(process.getgid?.()),
  };
}

function containerEnv(service: ComposeService, values: Record<string, string>): Record<string, string> {
  const containerPorts = new Map(
    Object.entries(compose)
      .filter(([, s]) => s.build !== undefined || s.image?.includes('opentelemetry-collector'))
      .map(
        ([name, s]) =>
          [
            name,
            [s.environment?.PORT, s.environment?.TRAFFIC_PORT, name === 'otel-collector' && '4318']
              .filter(Boolean)
              .map(Number),
          ] as const,
      ),
  );
  const mounts = (service.volumes ?? [])
    .filter((v) => v.startsWith('./.lab:'))
    .map((v): [string, string] => [v.split(':')[1], dotLab]);
  const env: Record<string, string> = {};
  for (const [key, raw] of Object.entries(service.environment ?? {})) {
    const value = interpolate(raw, values);
    const port = /^(PORT|[A-Z]+_PORT)$/.test(key) && /^\d+$/.test(value) ? String(hostPort(Number(value))) : undefined;
    env[key] = port ?? translate(value, { containerPorts, mounts, imageRoot });
  }
  // Each service's own schema and user, prefixed like every test's (created in beforeAll).
  if (env.MYSQL_URL)
    env.MYSQL_URL = env.MYSQL_URL.replace(/\/\/([a-z]+):/, '//img_$1:').replace(/\/([a-z]+)$/, '/img_$1');
  return {
    ...env,
    EVENTS_EXCHANGE: `img.events.${run}`,
    INVENTORY_QUEUE: `img.inventory.${run}`,
    NOTIFICATIONS_QUEUE: `img.notifications.${run}`,
    REDIS_KEY_PREFIX: `img.${run}:`,
    PATH: BASE_PATH,
    HOME: path.join(work, 'home'),
  };
}

/** The image's HEALTHCHECK, run as the container's user with the container's environment. */
function healthy(service: Started): boolean {
  const [program, ...args] = image.healthcheck?.command ?? [];
  const result = spawnSync(path.join(imageRoot, 'usr/local/bin', program), args, {
    env: service.env,
    uid: service.uid,
    gid: service.gid,
    timeout: 3_000,
  });
  return result.status === 0;
}

async function untilHealthy(service: Started, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null) break;
    if (healthy(service)) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${service.name} did not become healthy:\n${service.output.join('').slice(-4000)}`);
}

function start(name: string, service: ComposeService, values: Record<string, string>): Started {
  const [uid, gid] = service.user
    ? interpolate(service.user, values).split(':').map(Number)
    : (IMAGE_USERS[image.user ?? 'root'] ?? [0, 0]);
  const env = containerEnv(service, values);
  const [command, ...args] = service.command ?? [];
  const child = spawn(command, args, { cwd: path.join(imageRoot, image.workdir), env, uid, gid });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  return { name, env, uid, gid, child, output };
}

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(!socket.destroy()));
    socket.once('error', () => resolve(true));
  });

beforeAll(async () => {
  const begun = Date.now();
  const stages = build({
    dockerfile: path.join(ROOT, 'Dockerfile'),
    context: ROOT,
    work: path.join(work, 'build'),
    caches: { '/root/.npm': NPM_CACHE },
    basePath: BASE_PATH,
    network: Object.fromEntries(
      Object.entries(process.env).filter(
        (entry): entry is [string, string] =>
          /^(NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|(https?|no)_proxy)$/i.test(entry[0]) && !!entry[1],
      ),
    ),
    log: () => undefined,
  });
  image = stages[stages.length - 1];
  mkdirSync(imageRoot);
  exportImage(image, imageRoot);
  chmodSync(work, 0o755);
  mkdirSync(dotLab);
  mkdirSync(path.join(work, 'home'), { mode: 0o777 });
  chmodSync(path.join(work, 'home'), 0o777);
  console.log(`image built and assembled in ${Math.round((Date.now() - begun) / 1000)} s`);

  const values = envFile();
  for (const [, s] of ours) {
    const url = s.environment?.MYSQL_URL && new URL(interpolate(s.environment.MYSQL_URL, values));
    if (url) await provisionSchema(MYSQL_ADMIN_URL, `img_${url.username}`, `img_${url.username}`, url.password);
  }
  const ports = ours.map(([, s]) => hostPort(Number(s.environment?.PORT)));
  const busy = (await Promise.all([...ports, OTLP_PORT].map(async (p) => ((await portFree(p)) ? 0 : p)))).filter(
    Boolean,
  );
  if (busy.length) throw new Error(`ports already in use: ${busy.join(', ')}`);
  await new Promise<void>((resolve) => collector.listen(OTLP_PORT, '127.0.0.1', resolve));

  // In compose's order: a service starts once the services of ours it depends on are healthy.
  const deadline = Date.now() + 240_000;
  const pending = new Map(ours);
  while (pending.size > 0) {
    const ready = [...pending].filter(([, s]) =>
      Object.keys(s.depends_on ?? {}).every((d) => !compose[d].build || (started.has(d) && !pending.has(d))),
    );
    if (ready.length === 0) throw new Error(`no service can start: ${[...pending.keys()].join(', ')}`);
    const batch = ready.map(([name, s]) => start(name, s, values));
    for (const service of batch) started.set(service.name, service);
    await Promise.all(batch.map((service) => untilHealthy(service, deadline)));
    for (const [name] of ready) pending.delete(name);
  }
}, 900_000);

afterAll(async () => {
  await Promise.all(
    [...started.values()].map(
      (s) =>
        new Promise((resolve) => (s.child.exitCode !== null ? resolve(null) : s.child.once('exit', resolve).kill())),
    ),
  );
  collector.close();
  rmSync(work, { recursive: true, force: true });
  // This run's names on the shared broker (the img_* schemas stay, seeded, like the test_* ones).
  const connection = await amqp.connect(AMQP_URL);
  const channel = await connection.createChannel();
  for (const queue of [`img.inventory.${run}`, `img.notifications.${run}`])
    for (const name of [queue, `${queue}.dlq`]) await channel.deleteQueue(name);
  await channel.deleteExchange(`img.events.${run}`);
  await connection.close();
}, 60_000);

describe('the image, built from the Dockerfile and run as compose runs it', () => {
  it('starts every compose service of our image, each healthy by the image HEALTHCHECK', () => {
    expect(ours.length).toBeGreaterThanOrEqual(10);
    const unhealthy = [...started.values()].filter((s) => s.child.exitCode !== null || !healthy(s)).map((s) => s.name);
    expect(unhealthy).toEqual([]);
    expect([...started.keys()].sort()).toEqual(ours.map(([name]) => name).sort());
  });

  it('runs them as the image USER (the webhook as the owner of .lab/), on files they cannot change', () => {
    expect(image.user).toBe('node');
    for (const s of started.values())
      expect([s.name, s.uid]).toEqual([s.name, s.name === 'lab-webhook' ? process.getuid?.() : 1000]);
    const write = spawnSync('sh', ['-c', `touch ${path.join(imageRoot, image.workdir, 'package.json')}`], {
      uid: 1000,
      gid: 1000,
    });
    expect(write.status).not.toBe(0);
  });

  it('holds only what the runtime needs: no sources, no tests, no dev dependencies', () => {
    const app = path.join(imageRoot, image.workdir);
    const has = (rel: string) => spawnSync('test', ['-e', path.join(app, rel)]).status === 0;
    expect(has('services/traffic/profiles.json')).toBe(true);
    expect(has('services/orders/migrations')).toBe(true);
    for (const absent of [
      'services/orders/src',
      'services/orders/test',
      'exercises',
      'node_modules/typescript',
      'node_modules/jest',
    ])
      expect([absent, has(absent)]).toEqual([absent, false]);
  });
});
