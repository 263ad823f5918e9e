import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { loadProfiles, PROFILES_PATH, requestsPerJourney } from '../src/profiles';

/**
 * k6 cannot run here, so its scripts run under node instead: a copy of services/traffic marked as ES
 * modules, with `k6`, `k6/http` and `k6/data` replaced by stubs that answer like the shop and
 * record every request. That checks that they parse, read profiles.json, derive the scenario from
 * it and walk the same journeys as the native generator.
 */
const TRAFFIC = join(__dirname, '..');
const SCRIPTS = readdirSync(join(TRAFFIC, 'k6')).filter((name) => /^\d\d-.*\.js$/.test(name));
const profiles = loadProfiles();

const STUBS: Record<string, string> = {
  k6: 'export const sleep = () => {}; export const check = () => true;',
  'k6/data': 'export class SharedArray { constructor(_name, make) { return make(); } }',
  'k6/http': `
    const answer = (method, url) => {
      const path = new URL(url).pathname;
      if (path === '/api/auth/login') return { token: 'token-of-a-user' };
      if (/^\\/api\\/products\\/\\d+$/.test(path) || path === '/api/auth/me') return { ok: true };
      if (path.startsWith('/api/products')) return { products: Array.from({ length: 20 }, (_, i) => ({ id: i + 1 })) };
      return {};
    };
    const send = (method, url, body, params = {}) => {
      globalThis.calls.push({ method, url, body, headers: params.headers ?? {}, tags: params.tags ?? {}, expected: params.responseCallback });
      const json = answer(method, url);
      return { status: method === 'POST' && url.endsWith('/register') ? 201 : 200, json: () => json };
    };
    export default {
      get: (url, params) => send('GET', url, null, params),
      post: (url, body, params) => send('POST', url, body, params),
      expectedStatuses: (range) => range,
    };`,
};

const RUNNER = `
import { registerHooks } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
const stubs = JSON.parse(process.env.K6_STUBS);
registerHooks({
  resolve: (specifier, context, next) =>
    specifier in stubs
      ? { url: 'data:text/javascript,' + encodeURIComponent(stubs[specifier]), shortCircuit: true }
      : next(specifier, context),
});
const script = resolve(process.argv[2]);
globalThis.calls = [];
globalThis.__ENV = {};
globalThis.__VU = 1;
globalThis.__ITER = 0;
globalThis.open = (path) => readFileSync(resolve(dirname(script), path), 'utf8');
const module = await import(pathToFileURL(script).href);
const { JOURNEY_NAMES } = await import(new URL('./lib/shop.js', pathToFileURL(script)).href);
const data = module.setup();
const enrolment = globalThis.calls.length;
for (let i = 0; i < 400; i++) { globalThis.__ITER = i; module.default(data); }
console.log(JSON.stringify({ options: module.options, journeys: JOURNEY_NAMES, enrolment, calls: globalThis.calls }));
`;

interface Call {
  method: string;
  url: string;
  body: string | null;
  headers: Record<string, string>;
  tags: Record<string, string>;
  expected?: { min: number; max: number };
}

interface Run {
  options: {
    scenarios: { shop: { executor: string; rate: number; timeUnit: string; preAllocatedVUs: number; maxVUs: number } };
    thresholds: Record<string, string[]>;
  };
  journeys: string[];
  enrolment: number;
  calls: Call[];
}

describe('k6 scripts', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'k6-'));
    // Only what k6 reads: the scripts and the profiles beside them (not the service's package.json).
    for (const part of ['k6', 'profiles.json'])
      cpSync(join(TRAFFIC, part), join(dir, 'traffic', part), { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    writeFileSync(join(dir, 'runner.mjs'), RUNNER);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function run(script: string): Run {
    const result = spawnSync(process.execPath, [join(dir, 'runner.mjs'), join(dir, 'traffic', 'k6', script)], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, K6_STUBS: JSON.stringify(STUBS) },
    });
    expect(result.stderr).toBe('');
    return JSON.parse(result.stdout) as Run;
  }

  it('reads the very profiles.json the native generator reads, here and in the k6 container', () => {
    // k6 resolves open() against the script's own directory.
    for (const script of SCRIPTS) {
      const source = readFileSync(join(TRAFFIC, 'k6', script), 'utf8');
      const opened = [...source.matchAll(/\bopen\('([^']+)'\)/g)].map((m) => m[1]);
      expect(opened.map((file) => realpathSync(resolve(TRAFFIC, 'k6', file)))).toEqual([realpathSync(PROFILES_PATH)]);
    }
    // docker-compose.yml mounts this folder where the k6 command finds its scripts.
    const compose = parse(readFileSync(join(TRAFFIC, '../../docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: { k6: { volumes: string[]; command: string[] } };
    };
    const [host, container] = compose.services.k6.volumes[0].split(':');
    expect(realpathSync(resolve(TRAFFIC, '../..', host))).toBe(realpathSync(TRAFFIC));
    expect(compose.services.k6.command.at(-1)).toBe(`${container}/k6/${SCRIPTS[0]}`);
  });

  it('finds the numbered scripts', () => {
    expect(SCRIPTS).toEqual(['01-default.js', '02-black-friday.js']);
  });

  it.each([...SCRIPTS, 'lib/shop.js'])('%s parses as an ES module', (script) => {
    const result = spawnSync(process.execPath, ['--check', join(dir, 'traffic', 'k6', script)], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it.each([
    ['01-default.js', 'default'],
    ['02-black-friday.js', 'black-friday'],
  ])('%s runs the %s profile of profiles.json', (script, name) => {
    const { options, journeys, enrolment, calls } = run(script);
    const profile = profiles.profiles[name];

    // The same journeys as the native generator, and a constant arrival rate from the profile.
    expect([...journeys].sort()).toEqual(Object.keys(profiles.journeys).sort());
    const shop = options.scenarios.shop;
    expect(shop.executor).toBe('constant-arrival-rate');
    expect(shop.timeUnit).toBe('1m');
    expect(shop.rate).toBe(Math.round((profile.rate * 60) / requestsPerJourney(profiles, profile.weights)));
    expect(shop.preAllocatedVUs).toBeLessThanOrEqual(shop.maxVUs);
    expect(options.thresholds).toEqual({
      'http_req_failed{slo:checkout}': ['rate<0.005'],
      'http_req_duration{slo:checkout}': ['p(99)<1000'],
    });

    expect(enrolment).toBe(40); // 20 users, each registered and signed in
    const journeyCalls = calls.slice(enrolment);
    expect(journeyCalls.every((call) => call.url.startsWith('http://gateway:8080/api/'))).toBe(true);
    // Every request is grouped by route, and its journey is one the profile weighs.
    const weighed = Object.keys(profile.weights);
    for (const call of journeyCalls) {
      expect(call.tags.name).toMatch(/^(POST )?\/api\/[a-z/:]+$/);
      expect(weighed).toContain(call.tags.journey);
    }
    const checkoutShare = journeyCalls.filter((c) => c.tags.journey === 'checkout' && c.method === 'GET').length / 3;
    expect(checkoutShare / 400).toBeGreaterThan(0.04);
    expect(checkoutShare / 400).toBeLessThan(0.18);

    const orders = journeyCalls.filter((call) => call.tags.slo === 'checkout');
    expect(orders.length).toBeGreaterThan(10);
    for (const order of orders) {
      expect(order.url).toBe('http://gateway:8080/api/orders');
      expect(order.headers['idempotency-key']).toMatch(/^[A-Za-z0-9_-]{8,128}$/);
      expect(order.headers.authorization).toBe('Bearer token-of-a-user');
      expect(order.expected).toEqual({ min: 200, max: 499 });
      const items = (JSON.parse(order.body ?? '') as { items: Array<{ productId: number }> }).items;
      expect(items.length).toBeGreaterThanOrEqual(1);
      expect(items.length).toBeLessThanOrEqual(3);
    }
    expect(new Set(orders.map((order) => order.headers['idempotency-key'])).size).toBe(orders.length);
  });
});
