import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findTraces } from '../src/core/actions/traces';
import { jaegerClient, serviceOf } from '../src/core/clients/jaeger';
import { logqlString, lokiClient } from '../src/core/clients/loki';
import { eventually } from '../../test/support/eventually';
import { sendCheckout, startStore, type StoreProcess } from './store-process';

// The real store process (lab/dist), fed by the real OTel SDK exporters, read through the lab's
// own Jaeger and Loki clients. Ports 14310-14311.
describe('the lite telemetry store', () => {
  let store: StoreProcess;
  beforeAll(async () => {
    store = await startStore(14310);
  });
  afterAll(() => store.stop());

  const cases = [
    ['protobuf', 'gzip'],
    ['protobuf', 'none'],
    ['json', 'gzip'],
    ['json', 'none'],
  ] as const;
  it.each(cases)(
    'keeps spans and logs exported as %s (compression %s) and answers Jaeger and Loki',
    async (protocol, compression) => {
      const service = `checkout-${protocol}-${compression}`;
      const sent = sendCheckout(store.otlp, service, protocol, compression);
      const jaeger = jaegerClient(store.query);
      const loki = lokiClient(store.query);

      const found = await eventually(
        'the failed checkout in a search',
        15_000,
        async () => (await jaeger.search({ service, tags: { error: 'true' }, minDuration: '300ms' }))[0],
      );
      expect(found.traceID).toBe(sent.traceId);
      expect(await jaeger.services()).toContain(service);
      expect((await jaeger.operations(service)).sort()).toEqual(['GET catalog', 'POST /checkout']);
      expect(await jaeger.search({ service, tags: { 'http.response.status_code': '500' } })).toHaveLength(1);
      expect(await jaeger.search({ service, minDuration: '1s' })).toHaveLength(0);
      expect(await jaeger.search({ service, operation: 'GET catalog', maxDuration: '350ms' })).toHaveLength(1);

      const whole = await jaeger.trace(sent.traceId);
      const root = whole?.spans.find((s) => s.spanID === sent.rootId);
      const child = whole?.spans.find((s) => s.spanID === sent.childId);
      expect(root?.duration).toBe(400_000);
      expect(child?.duration).toBe(300_000);
      expect(child?.references).toEqual([{ refType: 'CHILD_OF', traceID: sent.traceId, spanID: sent.rootId }]);
      expect(root?.tags).toEqual(
        expect.arrayContaining([
          { key: 'http.response.status_code', type: 'int64', value: 500 },
          { key: 'retry', type: 'bool', value: true },
          { key: 'ratio', type: 'float64', value: 0.5 },
          { key: 'span.kind', type: 'string', value: 'server' },
          { key: 'error', type: 'bool', value: true },
          { key: 'otel.status_description', type: 'string', value: 'payment declined' },
        ]),
      );
      expect(child?.logs[0].fields).toEqual([
        { key: 'event', type: 'string', value: 'retry' },
        { key: 'attempt', type: 'int64', value: 2 },
      ]);
      expect(whole && root && serviceOf(whole, root)).toBe(service);
      expect(whole?.processes.p1.tags).toEqual(
        expect.arrayContaining([{ key: 'service.instance.id', type: 'string', value: `${service}-1` }]),
      );

      const lines = await eventually('both log lines of the trace', 15_000, async () => {
        const l = await loki.lines({
          query: `{service_name=${logqlString(service)}} | trace_id=${logqlString(sent.traceId)}`,
        });
        return l.length >= 2 ? l : undefined;
      });
      expect(lines.map((l) => l.labels.severity_text).sort()).toEqual(['error', 'info']);
      expect(lines[0].labels).toMatchObject({
        service_name: service,
        service_instance_id: `${service}-1`,
        trace_id: sent.traceId,
      });
      const parsed = await loki.lines({
        query: `{service_name=${logqlString(service)}} | json | status >= 500 | order_id="o-42"`,
      });
      expect(parsed.map((l) => l.labels.outcome)).toEqual(['declined']);
      const perLevel = await loki.series({
        query: `sum by (severity_text) (count_over_time({service_name=${logqlString(service)}}[5m]))`,
        step: '10',
      });
      expect(perLevel.map((s) => s.metric.severity_text).sort()).toEqual(['error', 'info']);
    },
  );

  it('lists failed slow traces for lab traces, across services, newest first', async () => {
    const found = await findTraces(jaegerClient(store.query), { error: true, minDuration: '300ms' });
    expect(found.map((t) => t.service).sort()).toEqual(cases.map(([p, c]) => `checkout-${p}-${c}`).sort());
    expect(found.every((t) => t.spans === 2 && t.errors === 1 && t.durationMs === 400)).toBe(true);
    expect([...found].sort((a, b) => b.startUs - a.startUs)).toEqual(found);
  });

  it('answers instant metric queries with a vector, and refuses instant log queries as Loki does', async () => {
    const url = (query: string) => `${store.query}/loki/api/v1/query?query=${encodeURIComponent(query)}`;
    const response = await fetch(url('sum by (severity_text) (rate({service_name="checkout-json-none"}[5m]))'));
    const body = (await response.json()) as {
      data: { resultType: string; result: { metric: object; value: [number, string] }[] };
    };
    expect(body.data.resultType).toBe('vector');
    expect(body.data.result.map((r) => [r.metric, Number(r.value[1]) * 300])).toEqual(
      expect.arrayContaining([
        [{ severity_text: 'error' }, 1],
        [{ severity_text: 'info' }, 1],
      ]),
    );
    const log = await fetch(url('{service_name="checkout-json-none"}'));
    expect(log.status).toBe(400);
    expect(await log.text()).toMatch(/log queries are not supported as an instant query/);
  });

  it('counts in SQLite exactly as row by row (a line filter that keeps every line forces the latter)', async () => {
    // Steps run from start while <= end: the end lies a minute ahead so the last lines are in a window.
    const end = (Date.now() + 60_000) * 1e6;
    const matrix = async (query: string) => {
      const url = new URL('/loki/api/v1/query_range', store.query);
      for (const [k, v] of Object.entries({ query, start: String(end - 600e9), end: String(end), step: '7' }))
        url.searchParams.set(k, v);
      return ((await (await fetch(url)).json()) as { data: { result: unknown[] } }).data.result;
    };
    for (const fn of ['count_over_time', 'rate']) {
      const sql = await matrix(`sum by (severity_text) (${fn}({service_name=~"checkout-.+"}[30s]))`);
      const rows = await matrix(`sum by (severity_text) (${fn}({service_name=~"checkout-.+"} |~ ".*" [30s]))`);
      expect(sql.length).toBe(2);
      expect(sql).toEqual(rows);
    }
  });

  it('lists stream labels and their values', async () => {
    const loki = lokiClient(store.query);
    await eventually('the labels of the stored logs', 15_000, async () => {
      expect(await loki.labels()).toEqual(['service_instance_id', 'service_name']);
      expect(await loki.labelValues('service_name')).toContain('checkout-json-gzip');
      return true;
    });
  });

  it('answers an unknown trace with 404 and a search without service with 400, as Jaeger does', async () => {
    expect(await jaegerClient(store.query).trace('0123456789abcdef0123456789abcdef')).toBeUndefined();
    const response = await fetch(`${store.query}/api/traces?limit=1`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      data: null,
      total: 0,
      limit: 0,
      offset: 0,
      errors: [{ code: 400, msg: "parameter 'service' is required" }],
    });
  });

  it('exposes its own metrics', async () => {
    const text = await (await fetch(`${store.query}/metrics`)).text();
    expect(text).toMatch(/lab_store_received_total\{signal="spans"\} \d+/);
    expect(text).toContain('lab_store_query_duration_seconds_bucket');
  });

  it('keeps what it stored across a restart (ports 14312-14313)', async () => {
    const env = { STORE_DB: path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lab-store-restart-')), 'telemetry.db') };
    const first = await startStore(14312, env);
    const sent = sendCheckout(first.otlp, 'restarted', 'protobuf', 'none');
    await eventually('the trace stored', 15_000, () => jaegerClient(first.query).trace(sent.traceId));
    await first.stop();
    const second = await startStore(14312, env);
    try {
      expect((await jaegerClient(second.query).trace(sent.traceId))?.spans).toHaveLength(2);
    } finally {
      await second.stop();
    }
  });
});
