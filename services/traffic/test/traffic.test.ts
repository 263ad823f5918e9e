import { ConfigError, createLogger, createRegistry, loadConfig, serve, type RunningServer } from '@shopnow/kit';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../src/app';
import { trafficEnv } from '../src/config';
import { TrafficGenerator, type GeneratorOptions } from '../src/generator';
import { trafficMetrics, type TrafficMetrics } from '../src/metrics';
import { loadProfiles, ProfilesError, requestsPerJourney, type Profile } from '../src/profiles';

/**
 * The generator against a tiny stand-in for the gateway, on port 0: it answers like the shop (or
 * with the status a test asks for, or never) and records every request it gets. The real shop is
 * driven by the lead's lite-mode end-to-end test.
 */
interface Seen {
  at: number;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Answer = number | 'hang' | undefined;

class StandIn {
  readonly seen: Seen[] = [];
  /** What journey requests get; undefined answers like the shop. Enrolment is always answered. */
  answer: Answer = undefined;
  open = 0;
  maxOpen = 0;
  /** Where the journeys begin in `seen`: set once the generator has enrolled its users. */
  private enrolledAt?: number;
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  markEnrolled(): void {
    this.enrolledAt = this.seen.length;
  }

  /** Journey requests only, without the enrolment that comes before them. */
  journeyRequests(): Seen[] {
    return this.enrolledAt === undefined ? [] : this.seen.slice(this.enrolledAt);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const url = req.url ?? '';
      this.seen.push({ at: performance.now(), method: req.method ?? '', url, headers: req.headers, body });
      const answer = this.enrolledAt === undefined ? undefined : this.answer;
      if (answer === 'hang') {
        this.open++;
        this.maxOpen = Math.max(this.maxOpen, this.open);
        res.once('close', () => this.open--);
        return;
      }
      if (answer !== undefined) {
        res.writeHead(answer, { 'content-type': 'application/json' }).end('{"error":{}}');
        return;
      }
      const [status, json] = shopAnswer(req.method ?? '', url);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    });
  }
}

const PAGE = { products: Array.from({ length: 20 }, (_, i) => ({ id: i + 1 })) };

function shopAnswer(method: string, url: string): [number, unknown] {
  if (url === '/api/auth/register') return [201, { user: { id: 1 } }];
  if (url === '/api/auth/login') return [200, { token: 'token-of-a-user' }];
  if (url === '/api/auth/me') return [200, { user: { id: 1 } }];
  if (method === 'POST' && url === '/api/orders') return [201, { order: { id: 'x' } }];
  if (method === 'GET' && url.startsWith('/api/orders?')) return [200, { orders: [] }];
  if (/^\/api\/products\/\d+$/.test(url)) return [200, { product: { id: 1 } }];
  if (url.startsWith('/api/products')) return [200, PAGE];
  return [404, { error: {} }];
}

/** Which journey a request starts, from what the journeys send first (see journeys.ts). */
function journeyStartedBy(s: Seen): string | undefined {
  if (s.url.startsWith('/api/products/search')) return 'search';
  if (s.method === 'POST' && s.url === '/api/auth/login') return 'login';
  if (!s.url.startsWith('/api/products?')) return undefined;
  if (s.headers.authorization) return 'checkout';
  if (s.headers['x-api-key'] === 'lab-noisy-client') return 'noisy-client';
  return String(s.headers['x-api-key']).startsWith('lab-visitor-') ? 'browse' : undefined;
}

/** A small seeded generator (mulberry32), so that the journey mix is the same at every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = createLogger('traffic', 'error');
const profiles = loadProfiles();

/** A test profile: no think time, so that every journey's requests come at its arrival. */
function withProfile(weights: Profile['weights'], rate: number) {
  return {
    ...profiles,
    profiles: {
      ...profiles.profiles,
      test: { description: 'test', rate, thinkTimeMs: { min: 0, max: 0 }, weights },
    },
  };
}

async function outcomes(metrics: TrafficMetrics, journey?: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const { labels, value } of (await metrics.requests.get()).values) {
    if (journey && labels.journey !== journey) continue;
    const outcome = String(labels.outcome);
    counts[outcome] = (counts[outcome] ?? 0) + value;
  }
  return counts;
}

describe('traffic generator', () => {
  let standIn: StandIn;
  let gatewayUrl: string;
  let generator: TrafficGenerator | undefined;
  let control: RunningServer | undefined;

  beforeEach(async () => {
    standIn = new StandIn();
    gatewayUrl = await standIn.listen();
  });

  afterEach(async () => {
    await control?.stop();
    await generator?.stop();
    await standIn.close();
    generator = undefined;
    control = undefined;
  });

  function start(options: Partial<GeneratorOptions> & Pick<GeneratorOptions, 'profiles'>) {
    const registry = createRegistry('traffic', 'test');
    const metrics = trafficMetrics(registry);
    generator = new TrafficGenerator({
      gatewayUrl,
      profile: 'test',
      users: 3,
      timeoutMs: 2_000,
      maxInFlight: 200,
      metrics,
      log,
      random: seeded(42),
      ...options,
    });
    return { generator, metrics, registry, started: generator.start().then(() => standIn.markEnrolled()) };
  }

  /** Journey requests per whole second over the `seconds` after now. */
  async function perSecond(seconds: number): Promise<number[]> {
    const from = performance.now();
    await wait(seconds * 1_000);
    const counts = Array.from({ length: seconds }, () => 0);
    for (const s of standIn.journeyRequests()) {
      const slot = Math.floor((s.at - from) / 1_000);
      if (slot >= 0 && slot < seconds) counts[slot]++;
    }
    return counts;
  }

  it('refuses to load anything but a loopback gateway', () => {
    for (const url of [
      'http://example.com',
      'http://10.0.0.1:8080',
      'http://127.example.com',
      'http://[::ffff:7f00:1]',
    ]) {
      expect(() => loadConfig(trafficEnv, { GATEWAY_URL: url })).toThrow(/GATEWAY_URL: must be a loopback address/);
      expect(() => start({ profiles: withProfile({ browse: 1 }, 1), gatewayUrl: url })).toThrow(/refusing/);
    }
    for (const url of ['http://127.0.0.1:8080', 'http://127.3.4.5', 'http://localhost:8080', 'http://[::1]:8080']) {
      expect(loadConfig(trafficEnv, { GATEWAY_URL: url }).GATEWAY_URL).toBe(url);
    }
    expect(() => loadConfig(trafficEnv, { GATEWAY_URL: 'ftp://127.0.0.1' })).toThrow(ConfigError);
  });

  it('keeps the target request rate, on a clock', async () => {
    const { started } = start({ profiles: withProfile({ browse: 1, checkout: 1 }, 40) });
    await started;
    const counts = await perSecond(3);
    // Tolerances for a loaded 2-core machine: a stalled second is caught up on in the next one.
    for (const count of counts) expect(Math.abs(count - 40)).toBeLessThanOrEqual(12);
    expect(Math.abs(counts.reduce((a, b) => a + b) - 120)).toBeLessThanOrEqual(12);
  });

  it('starts journeys in the shares of their weights, each one making its requests', async () => {
    const weights = { browse: 40, search: 20, login: 10, checkout: 20, 'noisy-client': 10 };
    // A generous timeout: on a loaded machine a slow answer must not end a journey early here.
    const { generator: gen, metrics, started } = start({ profiles: withProfile(weights, 200), timeoutMs: 15_000 });
    await started;
    const starts = () => standIn.journeyRequests().map(journeyStartedBy).filter(Boolean);
    await until(() => starts().length >= 400, 20_000);
    gen.control({ running: false });
    await until(() => gen.status().inFlight === 0, 30_000);

    const observed = starts();
    const total = Object.values(weights).reduce((a, b) => a + b);
    let chiSquare = 0;
    for (const [journey, weight] of Object.entries(weights)) {
      const expected = (observed.length * weight) / total;
      const count = observed.filter((name) => name === journey).length;
      chiSquare += (count - expected) ** 2 / expected;
      // Every journey, ended normally, made exactly the requests profiles.json says it makes.
      const { ok = 0 } = await outcomes(metrics, journey);
      expect(ok).toBe(count * profiles.journeys[journey as keyof typeof weights].requests);
    }
    // 4 degrees of freedom: 18.47 is exceeded by chance once in a thousand runs.
    expect(chiSquare).toBeLessThan(18.47);

    const orders = standIn.seen.filter((s) => s.method === 'POST' && s.url === '/api/orders');
    const keys = new Set(orders.map((s) => s.headers['idempotency-key']));
    expect(keys.size).toBe(orders.length);
    for (const order of orders) {
      expect(order.headers.authorization).toBe('Bearer token-of-a-user');
      const ids = (JSON.parse(order.body) as { items: Array<{ productId: number }> }).items.map((i) => i.productId);
      expect(ids.length).toBeGreaterThanOrEqual(1);
      expect(ids.length).toBeLessThanOrEqual(3);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it.each([
    [429, 'rate_limited'],
    [503, 'server_error'],
    [404, 'client_error'],
  ])('counts a %i as %s, and the journey ends there', async (status, outcome) => {
    standIn.answer = status;
    const { metrics, started } = start({ profiles: withProfile({ browse: 1 }, 50) });
    await started;
    await until(async () => ((await outcomes(metrics))[outcome] ?? 0) >= 10);
    const counts = await outcomes(metrics);
    expect(counts.ok).toBe(0);
    // Each browse ended at its failed first request: no product page after it.
    expect(standIn.journeyRequests().some((s) => /^\/api\/products\/\d+$/.test(s.url))).toBe(false);
  });

  it('counts timeouts against a shop that never answers, and keeps journeys under way bounded', async () => {
    standIn.answer = 'hang';
    const {
      generator: gen,
      metrics,
      started,
    } = start({
      // Unbounded, 200 journeys/s that hang for 0.3 s would keep ~60 requests open at the stand-in.
      profiles: withProfile({ browse: 1 }, 400),
      timeoutMs: 300,
      maxInFlight: 10,
    });
    await started;
    let maxInFlight = 0;
    await until(async () => {
      maxInFlight = Math.max(maxInFlight, gen.status().inFlight);
      return ((await outcomes(metrics)).timeout ?? 0) >= 15;
    });
    expect(maxInFlight).toBeLessThanOrEqual(10);
    // The stand-in hears of an aborted request a moment after the next journey started: some slack.
    expect(standIn.maxOpen).toBeLessThanOrEqual(20);
    expect((await metrics.dropped.get()).values[0].value).toBeGreaterThan(0);
    expect(gen.status().dropped).toBeGreaterThan(0);
    expect((await outcomes(metrics)).network_error ?? 0).toBe(0);
  });

  it("floods with the API key a control names, and with profiles.json's again after a profile change", async () => {
    const { generator: gen, started } = start({ profiles: withProfile({ 'noisy-client': 1 }, 40) });
    await started;
    /** The keys of the requests seen from 100 ms to 500 ms after now (journeys already under way left out). */
    const keys = async () => {
      await wait(100);
      const from = performance.now();
      await wait(400);
      return new Set(
        standIn
          .journeyRequests()
          .filter((s) => s.at >= from)
          .map((s) => s.headers['x-api-key']),
      );
    };
    expect(await keys()).toEqual(new Set(['lab-noisy-client']));
    gen.control({ noisyApiKey: 'partner-live-0123' });
    expect(await keys()).toEqual(new Set(['partner-live-0123']));
    gen.control({ rate: 30 });
    expect(await keys()).toEqual(new Set(['partner-live-0123']));
    // The key is the flood's secret: the status (which `lab traffic` prints) does not show it.
    expect(JSON.stringify(gen.status())).not.toContain('partner-live');
    gen.control({ profile: 'test' });
    expect(await keys()).toEqual(new Set(['lab-noisy-client']));
  });

  describe('control API', () => {
    async function startControlled(rate: number) {
      const { generator: gen, registry, started } = start({ profiles: withProfile({ browse: 1 }, rate) });
      control = await serve(createApp({ log, registry, generator: gen }), {
        port: 0,
        host: '127.0.0.1',
        log,
        handleSignals: false,
      });
      const base = `http://127.0.0.1:${control.port}`;
      const post = (body: unknown) =>
        fetch(`${base}/control`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        });
      return { base, post, started };
    }

    it('changes the rate, stops and starts the traffic, switches profiles', async () => {
      const { base, post, started } = await startControlled(10);
      await started;
      expect((await fetch(`${base}/health/ready`)).status).toBe(200);
      const slow = (await perSecond(2)).reduce((a, b) => a + b);
      expect(slow).toBeGreaterThanOrEqual(15);
      expect(slow).toBeLessThanOrEqual(25);

      const faster = await post({ rate: 60 });
      expect(faster.status).toBe(200);
      expect(await faster.json()).toMatchObject({ running: true, rate: 60, profile: 'test' });
      const fast = (await perSecond(2)).reduce((a, b) => a + b);
      expect(fast).toBeGreaterThanOrEqual(105);
      expect(fast).toBeLessThanOrEqual(135);

      expect((await post({ running: false })).status).toBe(200);
      await until(async () => ((await (await fetch(`${base}/status`)).json()) as { inFlight: number }).inFlight === 0);
      expect(await perSecond(1)).toEqual([0]);

      await post({ running: true });
      await until(() => (standIn.journeyRequests().at(-1)?.at ?? 0) > performance.now() - 200);

      const switched = await post({ profile: 'black-friday' });
      expect(await switched.json()).toMatchObject({ profile: 'black-friday', rate: 50 });
      const both = await post({ profile: 'default', rate: 7 });
      expect(await both.json()).toMatchObject({ profile: 'default', rate: 7 });

      const status = (await (await fetch(`${base}/status`)).json()) as object;
      expect(Object.keys(status).sort()).toEqual(
        ['dropped', 'errors', 'inFlight', 'profile', 'rate', 'ready', 'running', 'sent'].sort(),
      );
    });

    it('rejects bad input with a 400 JSON error', async () => {
      const { post } = await startControlled(1);
      for (const bad of [
        { rate: 501 },
        { rate: -1 },
        { rate: 'fast' },
        { running: 'yes' },
        { speed: 3 },
        '{not json',
      ]) {
        const res = await post(bad);
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toMatch(/application\/json/);
        expect(((await res.json()) as { error: { code: string } }).error.code).toMatch(
          /VALIDATION_FAILED|INVALID_JSON/,
        );
      }
      const unknown = await post({ profile: 'cyber-monday' });
      expect(unknown.status).toBe(400);
      expect(await unknown.json()).toMatchObject({ error: { code: 'UNKNOWN_PROFILE' } });
    });

    it('serves metrics that promtool accepts', async () => {
      const { base, started } = await startControlled(20);
      await started;
      await until(() => standIn.journeyRequests().length >= 5);
      const text = await (await fetch(`${base}/metrics`)).text();
      for (const name of [
        'lab_traffic_requests_total{journey="browse",outcome="ok"}',
        'lab_traffic_target_rate 20',
        'lab_traffic_in_flight',
        'lab_traffic_dropped_total 0',
      ]) {
        expect(text).toContain(name);
      }
      expect(text).toMatch(/^lab_traffic_request_duration_seconds_bucket\{.*le="1".*\} [1-9]/m);
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 10_000 });
      expect(check.stdout + check.stderr).toBe('');
      expect(check.status).toBe(0);
    });
  });
});

describe('traffic profiles', () => {
  it('validates services/traffic/profiles.json, with a default and a black-friday ten times it', () => {
    expect(profiles.profiles.default.rate * 10).toBe(profiles.profiles['black-friday'].rate);
    const { weights } = profiles.profiles.default;
    const total = Object.values(weights).reduce((a, b) => a + (b ?? 0), 0);
    expect((weights.checkout ?? 0) / total).toBeCloseTo(0.1, 2);
  });

  it('gives the noisy client more than the gateway allows one client (50/s), the rest ~5/s', () => {
    const noisy = profiles.profiles.noisy;
    const perJourney = requestsPerJourney(profiles, noisy.weights);
    const journeysPerSecond = noisy.rate / perJourney;
    const total = Object.values(noisy.weights).reduce((a, b) => a + (b ?? 0), 0);
    const noisyRate = (journeysPerSecond * (noisy.weights['noisy-client'] ?? 0)) / total;
    expect(noisyRate).toBeGreaterThan(50);
    expect(noisy.rate - noisyRate).toBeCloseTo(profiles.profiles.default.rate, 0);
  });

  it('names every problem of a bad file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'profiles-'));
    const bad = structuredClone(profiles) as unknown as {
      profiles: Record<string, { rate: number; weights: Record<string, number> }>;
    };
    bad.profiles.default.rate = 501;
    bad.profiles.default.weights.teleport = 1;
    delete bad.profiles['black-friday'];
    writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
    expect(() => loadProfiles(join(dir, 'bad.json'))).toThrow(ProfilesError);
    expect(() => loadProfiles(join(dir, 'bad.json'))).toThrow(
      /profiles\.default\.rate[\s\S]*profiles\.default\.weights/,
    );
    writeFileSync(join(dir, 'broken.json'), '{"visitors": ');
    expect(() => loadProfiles(join(dir, 'broken.json'))).toThrow(/cannot read .*broken\.json/);
  });
});
