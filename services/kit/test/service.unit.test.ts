import { Writable } from 'node:stream';
import mysql from 'mysql2/promise';
import winston from 'winston';
import { createLogger } from '../src/logger';
import { createRegistry } from '../src/metrics';
import { AppError } from '../src/errors';
import { createServiceApp, finishApp, serve, type RunningServer } from '../src/service';

const log = createLogger('kit-test', 'error');

async function start(dependencyUp: { value: boolean }, logger = log) {
  const registry = createRegistry('kit-test', '0.0.1');
  const app = createServiceApp({
    log: logger,
    registry,
    bodyLimit: '1kb',
    checks: {
      mysql: async () => {
        if (!dependencyUp.value) throw new Error('connection refused');
      },
    },
  });
  app.post('/echo', (req, res) => {
    res.json({ got: req.body });
  });
  app.get('/things/:id', (req) => {
    throw new AppError(404, 'NOT_FOUND', `thing ${req.params.id} not found`);
  });
  app.get('/boom', () => {
    throw new Error('secret internal detail');
  });
  // A database that is not there: mysql2's own connection error, as a service sees it in an outage.
  const nowhere = mysql.createPool({ uri: 'mysql://nobody@127.0.0.1:1/none', connectionLimit: 1 });
  app.get('/db', async (_req, res) => {
    res.json(await nowhere.query('SELECT 1'));
  });
  app.get('/lost/:code', (req) => {
    throw Object.assign(new Error(`connection failed: ${req.params.code}`), { code: req.params.code });
  });
  app.get('/slow', async (_req, res) => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    res.json({ done: true });
  });
  finishApp(app, logger);
  return serve(app, { port: 0, host: '127.0.0.1', log: logger, handleSignals: false });
}

describe('a service built on the kit', () => {
  const dependencyUp = { value: true };
  let running: RunningServer;
  let base: string;
  beforeAll(async () => {
    running = await start(dependencyUp);
    base = `http://127.0.0.1:${running.port}`;
  });
  afterAll(() => running.stop());

  it('is live and ready while its dependencies answer, and not ready when one does not', async () => {
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    dependencyUp.value = false;
    const notReady = await fetch(`${base}/health/ready`);
    dependencyUp.value = true;
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ checks: { mysql: { ok: false, error: 'connection refused' } } });
  });

  it.each([
    ['invalid JSON', '{"a":', 'application/json', 400, 'INVALID_JSON'],
    ['a body over the limit', JSON.stringify({ a: 'x'.repeat(2048) }), 'application/json', 413, 'PAYLOAD_TOO_LARGE'],
  ])('answers %s with a JSON 4xx', async (_name, body, type, status, code) => {
    const res = await fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': type }, body });
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ error: { code, message: expect.any(String) } });
  });

  it('turns AppErrors into their status, unknown routes into 404, and hides internal errors', async () => {
    const missing = await fetch(`${base}/things/7`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'thing 7 not found' } });
    const unknown = await fetch(`${base}/nowhere`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'ROUTE_NOT_FOUND' } });
    const boom = await fetch(`${base}/boom`);
    expect(boom.status).toBe(500);
    expect(await boom.json()).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
  });

  it('answers 503 UNAVAILABLE, not 500, when a dependency cannot be reached', async () => {
    const refused = await fetch(`${base}/db`);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({ error: { code: 'UNAVAILABLE', message: 'a dependency is unavailable' } });
    for (const code of ['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'ETIMEDOUT', 'POOL_CLOSED']) {
      expect([code, (await fetch(`${base}/lost/${code}`)).status]).toEqual([code, 503]);
    }
    // A code that is not about reaching anything stays an internal error.
    expect((await fetch(`${base}/lost/ER_PARSE_ERROR`)).status).toBe(500);
  });

  it('counts requests under the route template, not the raw path', async () => {
    await fetch(`${base}/things/thing-7f3a9c`);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(
      /http_server_request_duration_seconds_count\{method="GET",route="\/things\/:id",status_class="4xx"\} \d+/,
    );
    expect(text).not.toContain('thing-7f3a9c');
  });

  it('serves OpenMetrics to a client that asks for it', async () => {
    const res = await fetch(`${base}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(res.headers.get('content-type')).toContain('application/openmetrics-text');
    expect((await res.text()).trimEnd().endsWith('# EOF')).toBe(true);
  });
});

describe('graceful shutdown', () => {
  it('finishes the request in flight, then refuses new connections and runs the closers', async () => {
    const running = await start({ value: true });
    const base = `http://127.0.0.1:${running.port}`;
    const inFlight = fetch(`${base}/slow`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await running.stop();
    expect(await (await inFlight).json()).toEqual({ done: true });
    await expect(fetch(`${base}/health/live`)).rejects.toThrow();
  });
});

describe('RED metrics switched off', () => {
  it('serves requests without recording them, while the default is to record', async () => {
    const counts: Record<string, boolean> = {};
    for (const metrics of [false, undefined]) {
      const registry = createRegistry('kit-test', '0.0.1');
      const app = createServiceApp({ log, registry, metrics });
      app.get('/things', (_req, res) => {
        res.json({ ok: true });
      });
      const running = await serve(finishApp(app, log), { port: 0, host: '127.0.0.1', log, handleSignals: false });
      const reply = await fetch(`http://127.0.0.1:${running.port}/things`);
      await running.stop();
      expect(reply.status).toBe(200);
      const exposition = await registry.metrics();
      counts[String(metrics)] = exposition.includes('http_server_request_duration_seconds_count{');
    }
    expect(counts).toEqual({ false: false, undefined: true });
  });
});

describe('a client that hangs up before the answer', () => {
  it('writes a line for every request, answered or abandoned by a client that hung up first, and counts the abandoned one as unanswered', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger('kit-test', 'info');
    logger.clear().add(
      new winston.transports.Stream({
        stream: new Writable({
          write(chunk: Buffer, _encoding, done) {
            lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
            done();
          },
        }),
      }),
    );
    const running = await start({ value: true }, logger);
    const base = `http://127.0.0.1:${running.port}`;
    let metrics: string;
    try {
      expect((await fetch(`${base}/things/7`)).status).toBe(404);
      // A caller whose deadline (100 ms) is shorter than the handler's 300 ms.
      await expect(fetch(`${base}/slow`, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
      await new Promise((resolve) => setTimeout(resolve, 400));
      metrics = await (await fetch(`${base}/metrics`)).text();
    } finally {
      await running.stop();
    }
    const access = lines.filter((l) => typeof l.route === 'string');
    expect(access).toEqual([
      expect.objectContaining({ message: 'request completed', method: 'GET', route: '/things/:id', status: 404 }),
      expect.objectContaining({
        level: 'warn',
        message: 'client closed the connection before the answer',
        method: 'GET',
        route: '/slow',
        duration_ms: expect.any(Number),
      }),
    ]);
    expect(access[1].duration_ms).toBeLessThan(300);
    // Nor is it counted as the 200 it never sent.
    expect(metrics).toMatch(
      /http_server_request_duration_seconds_count\{method="GET",route="\/slow",status_class="none"\} 1$/m,
    );
    expect(metrics).not.toMatch(/route="\/slow",status_class="2xx"/);
  });
});
