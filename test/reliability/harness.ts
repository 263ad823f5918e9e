import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { api, send } from '../support/client';
import { AMQP_URL, MYSQL_ADMIN_URL, REDIS_URL, type ServiceWithSchema } from '../support/backends';
import { startStack, type Stack, type StackOptions } from '../support/stack';
import { targetOf, TcpProxy } from '../support/tcp-proxy';

/**
 * What every reliability suite shares: a stack whose MySQL, Redis and RabbitMQ connections all go
 * through a TcpProxy of its own (so a suite can cut them without touching the shared backends),
 * the figures each suite records for docs/reliability.md, and small probes.
 */
export interface ProxiedStack {
  stack: Stack;
  proxies: { mysql: TcpProxy; redis: TcpProxy; amqp: TcpProxy };
  /** The schema each service uses: its own (`ownSchemas`) or the shared `e2e_<service>`. */
  schemaOf(service: ServiceWithSchema): string;
  stop(): Promise<Record<string, number | null>>;
}

/** An OTLP endpoint that accepts and forgets: these suites look at behaviour, not at spans. */
async function otlpSink(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export async function startProxiedStack(
  options: Omit<StackOptions, 'otlpEndpoint' | 'backends' | 'seedOrders'> & { seedOrders?: number },
): Promise<ProxiedStack> {
  const proxies = {
    mysql: await new TcpProxy(targetOf(MYSQL_ADMIN_URL)).start(),
    redis: await new TcpProxy(targetOf(REDIS_URL)).start(),
    amqp: await new TcpProxy(targetOf(AMQP_URL)).start(),
  };
  const sink = await otlpSink();
  const stack = await startStack({
    seedOrders: 0,
    ...options,
    otlpEndpoint: sink.url,
    backends: {
      mysql: proxies.mysql.rewrite(MYSQL_ADMIN_URL),
      redis: proxies.redis.rewrite(REDIS_URL),
      amqp: proxies.amqp.rewrite(AMQP_URL),
    },
  });
  return {
    stack,
    proxies,
    schemaOf: (service) => stack.schemaOf(service),
    async stop() {
      const codes = await stack.stop();
      for (const proxy of Object.values(proxies)) await proxy.stop();
      await sink.close();
      return codes;
    },
  };
}

const REPORT = path.resolve(__dirname, '../../reports/reliability.json');

/** Prints one line of figures and keeps them, under `section`, in reports/reliability.json. */
export function record(section: string, figures: Record<string, unknown>): void {
  console.log(`[reliability] ${section}: ${JSON.stringify(figures)}`);
  mkdirSync(path.dirname(REPORT), { recursive: true });
  let report: Record<string, unknown> = {};
  try {
    report = JSON.parse(readFileSync(REPORT, 'utf8')) as Record<string, unknown>;
  } catch {
    // first suite of the run
  }
  report[section] = { ...figures, recordedAt: new Date().toISOString() };
  writeFileSync(REPORT, `${JSON.stringify(report, null, 2)}\n`);
}

/** The sum of the samples of `name` carrying every given label (any order), or undefined if none. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const values = text
    .split('\n')
    .filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
    .filter((line) => wanted.every((pair) => line.slice(0, line.lastIndexOf('}') + 1).includes(pair)))
    .map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)));
  return values.length === 0 ? undefined : values.reduce((sum, value) => sum + value, 0);
}

export const scrape = async (url: string) => (await send(url, 'GET', '/metrics')).text;

/**
 * One process's memory as its own /metrics reports it (prom-client's default metrics, bytes): V8's
 * used heap, the heap V8 holds from the system, memory outside it that V8 tracks (Buffers), and RSS.
 */
export async function memoryOf(
  url: string,
): Promise<{ heap: number; heapTotal: number; external: number; rss: number }> {
  const text = await scrape(url);
  const value = (name: string) => sample(text, name) ?? Number.NaN;
  return {
    heap: value('nodejs_heap_size_used_bytes'),
    heapTotal: value('nodejs_heap_size_total_bytes'),
    external: value('nodejs_external_memory_bytes'),
    rss: value('process_resident_memory_bytes'),
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function signUp(gateway: string, name: string) {
  const email = `${name}-${randomUUID()}@shopnow.test`;
  const password = randomBytes(12).toString('base64url');
  const registered = await api(gateway, 'POST', '/api/auth/register', { email, password, name });
  if (registered.status !== 201) throw new Error(`register: ${registered.status} ${registered.text}`);
  const login = await api(gateway, 'POST', '/api/auth/login', { email, password });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${login.text}`);
  const { token, user } = login.json as { token: string; user: { id: number } };
  return { token, userId: user.id, email, password };
}

/** Starts `task` every `intervalMs` (runs may overlap) until `stop()`, which waits for those in flight. */
export function every(intervalMs: number, task: () => Promise<void>) {
  const running = new Set<Promise<void>>();
  let stopped = false;
  const timer = setInterval(() => {
    if (stopped) return;
    const run = task().finally(() => running.delete(run));
    running.add(run);
  }, intervalMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all(running);
    },
  };
}
