import fs from 'node:fs';
import path from 'node:path';
import { eventually } from '../../test/support/eventually';
import { sendCheckout, startStore, type StoreProcess } from './store-process';

// The store's answers against recorded answers of the real servers (see fixtures/store/README.md),
// compared by shape: the same keys and value types all the way down (arrays by their first item;
// a tag's value may be any type; label sets are maps of strings; Loki's optional stats are not compared). Ports 14340-14341.
type Shape = string | Shape[] | { [key: string]: Shape };
function shape(value: unknown, key = ''): Shape {
  if (key === 'value' || key === 'stats') return 'any';
  // Label sets depend on the data; what matters is that they are maps of strings.
  if (key === 'stream' || key === 'metric')
    return Object.values(value as object).every((v) => typeof v === 'string') ? 'labels' : 'not labels';
  if (Array.isArray(value)) return value.length ? [shape(value[0])] : [];
  if (value === null) return 'null';
  if (typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, shape((value as Record<string, unknown>)[k], k)]),
    );
  return typeof value;
}
const fixture = (name: string) =>
  JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures/store', name), 'utf8')) as unknown;

describe("the telemetry store answers in the real servers' shapes", () => {
  let store: StoreProcess;
  let traceId: string;
  beforeAll(async () => {
    store = await startStore(14340);
    traceId = sendCheckout(store.otlp, 'orders', 'protobuf', 'gzip').traceId;
    await eventually(
      'the trace stored',
      15_000,
      async () => (await fetch(`${store.query}/api/traces/${traceId}`)).status === 200,
    );
  });
  afterAll(() => store.stop());

  const get = async (url: string) => (await fetch(new URL(url, store.query))).json();
  const logs = (query: string) => `/loki/api/v1/query_range?query=${encodeURIComponent(query)}&step=10`;
  it.each([
    ['jaeger-services.json', () => '/api/services'],
    ['jaeger-trace.json', () => `/api/traces/${traceId}`],
    [
      'jaeger-trace.json',
      () => `/api/traces?service=orders&tags=${encodeURIComponent('{"error":"true"}')}&minDuration=200ms`,
    ],
    ['jaeger-search-error.json', () => '/api/traces?limit=1'],
    ['jaeger-trace-not-found.json', () => '/api/traces/00000000000000000000000000000001'],
    ['loki-streams.json', () => logs(`{service_name="orders"} | trace_id="${traceId}" | severity_text="error"`)],
    ['loki-matrix.json', () => logs('sum by (severity_text) (count_over_time({service_name="orders"}[5m]))')],
    ['loki-labels.json', () => '/loki/api/v1/labels'],
  ])('%s', async (name, url) => {
    const expected = fixture(name);
    const actual = await get(url());
    expect(shape(actual)).toEqual(shape(expected));
  });

  it('keeps the trace and span ids and the references exactly as Jaeger prints them', async () => {
    const trace = (
      (await get(`/api/traces/${traceId}`)) as { data: { traceID: string; spans: { spanID: string }[] }[] }
    ).data[0];
    expect(trace.traceID).toMatch(/^[0-9a-f]{32}$/);
    expect(trace.spans.every((s) => /^[0-9a-f]{16}$/.test(s.spanID))).toBe(true);
  });
});
