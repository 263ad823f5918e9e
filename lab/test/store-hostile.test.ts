import { gzipSync } from 'node:zlib';
import { jaegerClient } from '../src/core/clients/jaeger';
import { eventually } from '../../test/support/eventually';
import { sendCheckout, startStore, type StoreProcess } from './store-process';

// Hostile and broken input against the real store process (ports 14330-14331); after each case
// the store must still be healthy and still hold the trace stored before.
const ld = (field: number, bytes: Buffer) => {
  const len: number[] = [];
  for (let n = bytes.length; ; n >>>= 7) {
    if (n < 0x80) {
      len.push(n);
      break;
    }
    len.push((n & 0x7f) | 0x80);
  }
  return Buffer.concat([Buffer.from([(field << 3) | 2, ...len]), bytes]);
};
/** ExportTraceServiceRequest with one span whose name and attributes are given raw. */
const spanRequest = (name: Buffer, attributes: Buffer[] = []) =>
  ld(
    1,
    ld(
      2,
      ld(
        2,
        Buffer.concat([
          ld(1, Buffer.alloc(16, 1)),
          ld(2, Buffer.alloc(8, 2)),
          ld(5, name),
          ...attributes.map((a) => ld(9, a)),
        ]),
      ),
    ),
  );
/** A KeyValue whose value is a kvlist nested `depth` levels deep. */
const nestedKeyValue = (depth: number): Buffer => {
  let kv = ld(1, Buffer.from('k'));
  for (let level = 0; level < depth; level += 1) kv = Buffer.concat([ld(1, Buffer.from('k')), ld(2, ld(6, ld(1, kv)))]);
  return kv;
};
const nestedJson = (depth: number): unknown =>
  depth === 0 ? { stringValue: 'x' } : { kvlistValue: { values: [{ key: 'k', value: nestedJson(depth - 1) }] } };

describe('the telemetry store under hostile input', () => {
  let store: StoreProcess;
  let kept: string;
  beforeAll(async () => {
    store = await startStore(14330);
    kept = sendCheckout(store.otlp, 'before', 'protobuf', 'none').traceId;
    await eventually('the valid trace stored', 15_000, () => jaegerClient(store.query).trace(kept));
  });
  afterAll(() => store.stop());

  const post = (type: string, body: Buffer, headers: Record<string, string> = {}) =>
    fetch(`${store.otlp}/v1/traces`, { method: 'POST', headers: { 'content-type': type, ...headers }, body });
  const valid = spanRequest(Buffer.from('ok'));
  const cases: [string, () => Promise<Response>, number][] = [
    ['a truncated protobuf', () => post('application/x-protobuf', valid.subarray(0, valid.length - 5)), 400],
    ['a wrong content type', () => post('text/plain', valid), 415],
    ['a 20 MB body', () => post('application/json', Buffer.alloc(20 * 1024 * 1024, 0x20)), 413],
    [
      'a 20 MB body behind 20 KB of gzip',
      () => post('application/json', gzipSync(Buffer.alloc(20 * 1024 * 1024, 0x20)), { 'content-encoding': 'gzip' }),
      413,
    ],
    [
      'a length prefix claiming 4 GB',
      () => post('application/x-protobuf', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3])),
      400,
    ],
    [
      'invalid UTF-8 in a protobuf string',
      () => post('application/x-protobuf', spanRequest(Buffer.from([0xff, 0xfe, 0x41]))),
      400,
    ],
    [
      'invalid UTF-8 in JSON',
      () => post('application/json', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])),
      400,
    ],
    [
      'attributes nested 40 levels (protobuf)',
      () => post('application/x-protobuf', spanRequest(Buffer.from('deep'), [nestedKeyValue(40)])),
      400,
    ],
    [
      'attributes nested 10000 levels (protobuf)',
      () => post('application/x-protobuf', spanRequest(Buffer.from('deeper'), [nestedKeyValue(10_000)])),
      400,
    ],
    [
      'attributes nested 40 levels (JSON)',
      () =>
        post(
          'application/json',
          Buffer.from(
            JSON.stringify({
              resourceSpans: [
                {
                  scopeSpans: [
                    {
                      spans: [
                        {
                          traceId: '01'.repeat(16),
                          spanId: '02'.repeat(8),
                          attributes: [{ key: 'k', value: nestedJson(40) }],
                        },
                      ],
                    },
                  ],
                },
              ],
            }),
          ),
        ),
      400,
    ],
    ['JSON that is not an export request', () => post('application/json', Buffer.from('{"resourceSpans": 7}')), 400],
  ];
  it.each(cases)('answers %s with a 4xx in OTLP form and stays healthy', async (_name, send, status) => {
    const response = await send();
    expect(response.status).toBe(status);
    const type = response.headers.get('content-type') ?? '';
    if (type.includes('json'))
      expect(await response.json()).toEqual({ code: expect.any(Number), message: expect.any(String) });
    else expect(type).toContain('application/x-protobuf');
    expect((await fetch(`${store.query}/health/ready`)).status).toBe(200);
    expect((await jaegerClient(store.query).trace(kept))?.spans).toHaveLength(2);
  });

  const logql = [
    '{service_name="before"} |= "x" or 1=1',
    '{service_name="before\\"} | line_format "{{.password}}"',
    '{service_name=~".*"}',
    '{service_name="before"} | logfmt',
    '{service_name="before"} |~ "(a)\\\\1"',
    'sum by (x) (bytes_over_time({service_name="before"}[1m]))',
    '{service_name="before"}; DROP TABLE logs',
  ];
  it.each(logql)('refuses the LogQL %s with a 400 that names the problem', async (query) => {
    const url = new URL('/loki/api/v1/query_range', store.query);
    url.searchParams.set('query', query);
    const response = await fetch(url);
    expect(response.status).toBe(400);
    expect((await response.text()).length).toBeGreaterThan(10);
    expect((await jaegerClient(store.query).trace(kept))?.spans).toHaveLength(2);
  });

  it('runs a catastrophic-backtracking regex in linear time', async () => {
    const url = new URL('/loki/api/v1/query_range', store.query);
    url.searchParams.set('query', '{service_name="before"} |~ "(a+)+$"');
    const started = Date.now();
    expect((await fetch(url)).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('counts what it refused, by reason', async () => {
    const text = await (await fetch(`${store.query}/metrics`)).text();
    for (const reason of ['too_large', 'malformed', 'content_type']) expect(text).toContain(`reason="${reason}"`);
  });
});

describe('the telemetry store bounds (ports 14332-14333)', () => {
  it('drops traces older than the retention and keeps the new ones', async () => {
    // 0.1 minute = 6 s of retention, checked every second.
    const store = await startStore(14332, { STORE_RETENTION_MINUTES: '0.1' });
    try {
      const old = sendCheckout(store.otlp, 'aging', 'json', 'none');
      const jaeger = jaegerClient(store.query);
      await eventually('the old trace stored', 15_000, () => jaeger.trace(old.traceId));
      await eventually('the old trace gone', 20_000, async () => (await jaeger.trace(old.traceId)) === undefined);
      const fresh = sendCheckout(store.otlp, 'aging', 'json', 'none');
      await eventually('the fresh trace stored', 15_000, () => jaeger.trace(fresh.traceId));
      const metrics = await (await fetch(`${store.query}/metrics`)).text();
      expect(metrics).toMatch(/lab_store_evicted_rows_total\{table="spans",reason="age"\} [1-9]/);
    } finally {
      await store.stop();
    }
  });
});
