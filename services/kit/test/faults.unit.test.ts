import { createFaults, FAULTS, LAB_TOKEN_HEADER } from '../src/faults';
import { createLogger } from '../src/logger';
import { createRegistry } from '../src/metrics';
import { createServiceApp, finishApp, serve, type RunningServer } from '../src/service';

const log = createLogger('kit-test', 'error');
const TOKEN = 'lab-token-for-tests-0123456789';

describe('the fault engine', () => {
  it('validates options against the catalogue and applies defaults', () => {
    const faults = createFaults('catalog');
    expect(faults.set('cache-bypass', {}).options).toEqual({ mode: 'ttl-zero' });
    expect(() => faults.set('latency', { ms: -5 })).toThrow();
    expect(() => faults.set('latency', { ms: 10, surprise: true })).toThrow();
  });

  it('refuses a fault for a service it does not apply to, and lab-side faults', () => {
    expect(() => createFaults('catalog').set('retry-storm', {})).toThrow(RangeError);
    expect(() => createFaults('orders').set('dropped-index', {})).toThrow(RangeError);
  });

  it('hits only matching paths, for the configured share of requests', () => {
    let roll = 0;
    const faults = createFaults('orders', () => roll);
    faults.set('errors', { pathPrefix: '/orders', share: 0.5 });
    roll = 0.2;
    expect(faults.hits('errors', '/orders/1')).toBeDefined();
    expect(faults.hits('errors', '/health')).toBeUndefined();
    roll = 0.7;
    expect(faults.hits('errors', '/orders/1')).toBeUndefined();
  });

  it('tells listeners when a fault is set and cleared', () => {
    const faults = createFaults('orders');
    const seen: Array<[string, unknown]> = [];
    faults.onChange((name, options) => seen.push([name, options]));
    faults.set('pool-shrink', { size: 2 });
    faults.clearAll();
    expect(seen).toEqual([
      ['pool-shrink', { size: 2 }],
      ['pool-shrink', undefined],
    ]);
  });

  it('describes every fault with options that accept an empty object', () => {
    for (const [name, fault] of Object.entries(FAULTS)) {
      expect(fault.description.length).toBeGreaterThan(10);
      expect(() => fault.options.parse({})).not.toThrow();
      expect(name).toMatch(/^[a-z]+(-[a-z]+)*$/);
    }
  });
});

describe('the admin endpoint and request faults of a service', () => {
  let running: RunningServer;
  let base: string;
  const faults = createFaults('orders');

  beforeAll(async () => {
    const registry = createRegistry('orders', '1.0.0');
    const app = createServiceApp({ log, registry, faults, labToken: TOKEN });
    app.get('/orders/:id', (_req, res) => {
      res.json({ ok: true });
    });
    running = await serve(finishApp(app, log), { port: 0, host: '127.0.0.1', log, handleSignals: false });
    base = `http://127.0.0.1:${running.port}`;
  });
  afterAll(() => running.stop());
  afterEach(() => faults.clearAll());

  const admin = (method: string, path: string, body?: unknown, token = TOKEN) =>
    fetch(`${base}/admin${path}`, {
      method,
      headers: { 'content-type': 'application/json', [LAB_TOKEN_HEADER]: token },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('refuses requests without the right lab token', async () => {
    expect((await admin('GET', '/faults', undefined, '')).status).toBe(401);
    expect((await admin('PUT', '/faults/errors', { share: 1 }, 'wrong-token')).status).toBe(401);
    expect(faults.list()).toEqual([]);
  });

  it('answers unknown faults and bad options with a 4xx JSON error', async () => {
    expect((await admin('PUT', '/faults/teleport', {})).status).toBe(404);
    const bad = await admin('PUT', '/faults/latency', { ms: 'slow' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'INVALID_FAULT_OPTIONS' } });
  });

  it('switches errors on, visibly in the RED metrics under the route, never on health or metrics, and off again', async () => {
    expect((await admin('PUT', '/faults/errors', { status: 503, share: 1 })).status).toBe(200);
    expect((await fetch(`${base}/orders/1`)).status).toBe(503);
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    expect(await (await admin('GET', '/faults')).json()).toMatchObject({ faults: [{ name: 'errors' }] });
    expect((await admin('DELETE', '/faults')).status).toBe(200);
    expect((await fetch(`${base}/orders/1`)).status).toBe(200);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(
      /http_server_request_duration_seconds_count\{method="GET",route="\/orders\/:id",status_class="5xx"\} 1/,
    );
  });

  it('adds latency, and labels by raw path under high-cardinality', async () => {
    await admin('PUT', '/faults/latency', { ms: 200 });
    const started = performance.now();
    await fetch(`${base}/orders/2`);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    await admin('PUT', '/faults/high-cardinality', {});
    await fetch(`${base}/orders/424242`);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('route="/orders/424242"');
  });

  it('blocks the event loop: a timer due meanwhile fires late', async () => {
    await admin('PUT', '/faults/event-loop-block', { ms: 300 });
    const request = fetch(`${base}/orders/3`);
    const scheduled = performance.now();
    const lateBy = await new Promise<number>((resolve) =>
      setTimeout(() => resolve(performance.now() - scheduled - 20), 20),
    );
    await request;
    expect(lateBy).toBeGreaterThan(150);
  });
});
