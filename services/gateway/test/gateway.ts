/**
 * Test wiring for the gateway: the real app over real HTTP on port 0, real Redis, and tiny
 * node:http servers standing in for auth, catalog and orders (they count what reaches them).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { createLogger, createRegistry, serve, type Registry } from '@shopnow/kit';
import { createRedis, type Redis } from '@shopnow/kit/redis';
import { SignJWT } from 'jose';
import { createApp, type GatewayDeps } from '../src/app';
import { answerUnparsable } from '../src/request-body';
import type { UpstreamName } from '../src/routes';
import { REDIS_URL } from '../../../test/support/backends';

export const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
export const log = createLogger('gateway-test', 'error');
// The gateway logs every 5xx it answers; in these tests they are expected.
log.silent = true;

export interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface Double {
  url: string;
  port: number;
  /** Requests that reached the double, health checks left out. */
  seen: Seen[];
  /** What /health/ready answers. */
  ready: boolean;
  close(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, seen: Seen) => void | Promise<void>;

/** By default the double echoes what it received as JSON, which lets tests look at what was forwarded. */
const echo: Handler = (_req, res, seen) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ method: seen.method, url: seen.url, headers: seen.headers, body: seen.body.toString() }));
};

/** Answers after `ms`, unless the caller hangs up first: then it stops waiting and says so. */
export function answerAfter(ms: number, onClose?: (hungUpEarly: boolean) => void): Handler {
  return (_req, res) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => res.end('{}'), ms);
      res.once('close', () => {
        clearTimeout(timer);
        onClose?.(!res.writableFinished);
        resolve();
      });
    });
}

export async function startDouble(handle: Handler = echo, port = 0): Promise<Double> {
  const server = http.createServer(async (req, res) => {
    if (req.url === '/health/ready') {
      res.writeHead(double.ready ? 200 : 503).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
    double.seen.push(seen);
    await handle(req, res, seen);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  const double: Double = {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    seen: [],
    ready: true,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return double;
}

export interface Running {
  base: string;
  registry: Registry;
  stop(): Promise<void>;
}

type Overrides = Partial<Omit<GatewayDeps, 'upstreams' | 'proxy'>> & {
  urls: Partial<Record<UpstreamName, string[]>>;
  proxy?: Partial<GatewayDeps['proxy']>;
  redisUrl?: string;
};

/** A URL where nothing listens: a replica that is down. */
export const NOWHERE = 'http://127.0.0.1:1';

export async function startGateway(overrides: Overrides): Promise<Running> {
  const registry = createRegistry('gateway', 'test');
  const redis = createRedis(overrides.redisUrl ?? REDIS_URL, log);
  const { app, close } = createApp({
    log,
    registry,
    redis,
    jwt: { secret: SECRET, issuer: 'shopnow-auth', audience: 'shopnow' },
    // A key prefix per gateway, so that runs (and tests) never share counters.
    rateLimit: { points: 1_000, windowSeconds: 60, keyPrefix: `test:gateway:${randomUUID()}` },
    // Checks often, with a timeout generous enough that a busy test machine never fails one by itself.
    health: { intervalMs: 50, timeoutMs: 1_000, unhealthyAfter: 2 },
    ...overrides,
    upstreams: (['auth', 'catalog', 'orders'] as const).map((name) => ({
      name,
      urls: overrides.urls[name] ?? [NOWHERE],
    })),
    proxy: {
      timeoutsMs: { auth: 1_000, catalog: 1_000, orders: 1_000 },
      retry: {
        maxRetries: 2,
        backoffMs: { min: 1, max: 5 },
        budget: { ratio: 0.2, minPerWindow: 100, windowMs: 10_000 },
      },
      breaker: { errorThresholdPercentage: 50, volumeThreshold: 1_000, rollingWindowMs: 10_000, resetTimeoutMs: 5_000 },
      bodyLimitBytes: 64 * 1024,
      ...overrides.proxy,
    },
  });
  // The real Redis answers before the first request (a busy machine connects slowly, and the limiter
  // fails open meanwhile); a test that points the gateway elsewhere wants exactly that fallback.
  if (!overrides.redisUrl && redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  const running = await serve(app, { port: 0, host: '127.0.0.1', log, closers: [close], handleSignals: false });
  // As main.ts wires it: what Node cannot parse is answered in JSON too.
  answerUnparsable(running.server);
  return {
    base: `http://127.0.0.1:${running.port}`,
    registry,
    async stop() {
      await running.stop();
      await closeRedis(redis);
    },
  };
}

/**
 * ioredis's disconnect() during a reconnection leaves a 2 s timer behind (redis/ioredis#1247), which
 * keeps Jest waiting; a client that never got through is told to stop retrying and ends by itself.
 */
async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return void (await redis.quit());
  redis.options.retryStrategy = () => null;
  await new Promise((resolve) => redis.once('end', resolve));
}

export interface TokenOptions {
  secret?: string;
  alg?: string;
  issuer?: string;
  audience?: string;
  /** Seconds from now; negative is in the past. */
  expiresIn?: number;
  notBefore?: number;
}

export async function signToken(
  claims: Record<string, unknown> = { sub: '42', roles: ['customer'] },
  {
    secret = SECRET,
    alg = 'HS256',
    issuer = 'shopnow-auth',
    audience = 'shopnow',
    expiresIn = 300,
    notBefore,
  }: TokenOptions = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(claims).setProtectedHeader({ alg }).setIssuer(issuer).setAudience(audience).setIssuedAt();
  jwt.setExpirationTime(now + expiresIn);
  if (notBefore !== undefined) jwt.setNotBefore(now + notBefore);
  return jwt.sign(new TextEncoder().encode(secret));
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** What the echoing double received, as it answered it. */
export interface Echo {
  method: string;
  url: string;
  headers: Record<string, string | undefined>;
  body: string;
}

export const echoOf = async (res: Response) => (await res.json()) as Echo;
export const errorCodeOf = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

export interface UpstreamTable {
  upstreams: Array<{
    name: string;
    replicas: Array<{ url: string; instance: string; healthy: boolean; consecutiveFailures: number }>;
    circuit: string;
  }>;
}

export const upstreamTable = async (base: string) =>
  (await (await fetch(`${base}/gateway/upstreams`)).json()) as UpstreamTable;

/** The value of one sample in the text exposition, or 0 when the series is absent. */
export async function metric(base: string, series: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}
