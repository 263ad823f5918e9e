// The lite telemetry store under the black-friday rate (`make bench BENCH=store`, or alone:
// `node bench/store.ts [live minutes]`, default 10). Phase 1 exports live at 50 req/s through the real OTel SDK exporters (protobuf,
// batch processors with their defaults, as the services run them) into a fresh store and measures
// its CPU share and PSS, then spans lost; phase 2 backfills 60 minutes of traffic (timestamps in
// the past) so that phase 3 times a trace search and log queries over an hour of data, as much
// of it as the bounds keep. Figures, never assertions. Ports 61400-61401.
import { SpanKind, SpanStatusCode, context, trace, type Span, type Tracer } from '@opentelemetry/api';
import type { Logger } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { loadAverage, machine, median, memoryMiB, sleep, table, tryFetch, until } from './lib.ts';

const OTLP = 'http://127.0.0.1:61400';
const QUERY = 'http://127.0.0.1:61401';
const RATE = 50; // requests per second: the black-friday profile
const SERVICES = ['gateway', 'auth', 'catalog', 'orders', 'payments', 'inventory', 'notifications'];
const { resourceFromAttributes } = createRequire(path.resolve('node_modules/@opentelemetry/sdk-trace/package.json'))(
  '@opentelemetry/resources',
) as { resourceFromAttributes: (attributes: Record<string, string>) => never };

type Sdk = { tracer: Tracer; logger: Logger; flush: () => Promise<void> };
function sdks(backfill: boolean): Record<string, Sdk> {
  // Backfill pushes an hour in a minute, so its queues are large; live runs the SDK's defaults.
  const batch = backfill ? { maxQueueSize: 200_000, maxExportBatchSize: 2000, scheduledDelayMillis: 200 } : {};
  return Object.fromEntries(
    SERVICES.map((name) => {
      const resource = resourceFromAttributes({ 'service.name': name, 'service.instance.id': `${name}-1` });
      const tracing = new TracerProvider({
        resource,
        spanProcessors: [
          new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${OTLP}/v1/traces` }), ...batch }),
        ],
      });
      const logging = new LoggerProvider({
        resource,
        processors: [
          new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${OTLP}/v1/logs` }), ...batch }),
        ],
      });
      const flush = async () => void (await Promise.all([tracing.forceFlush(), logging.forceFlush()]));
      return [name, { tracer: tracing.getTracer('bench'), logger: logging.getLogger('bench'), flush }];
    }),
  );
}

let spansMade = 0;
/** One request as the lab's services trace it: 80% catalog reads (5 spans), 20% checkouts (15). */
function request(s: Record<string, Sdk>, at: number, n: number): void {
  const checkout = n % 5 === 0;
  const failed = n % 50 === 0;
  const span = (
    service: string,
    name: string,
    kind: SpanKind,
    parent: Span | undefined,
    start: number,
    ms: number,
    attributes = {},
  ) => {
    const ctx = parent ? trace.setSpan(context.active(), parent) : context.active();
    const made = s[service].tracer.startSpan(name, { kind, startTime: start, attributes }, ctx);
    spansMade += 1;
    return { made, end: () => made.end(start + ms) };
  };
  const log = (service: string, parent: Span, severity: string, message: string, at: number) =>
    s[service].logger.emit({
      timestamp: at,
      severityText: severity,
      body: JSON.stringify({
        message,
        route: checkout ? '/api/orders' : '/api/products/:id',
        status: failed ? 500 : 200,
      }),
      context: trace.setSpan(context.active(), parent),
    });
  const total = checkout ? 120 + (n % 7) * 40 : 8 + (n % 11);
  const root = span(
    'gateway',
    checkout ? 'POST /api/orders' : 'GET /api/products/:id',
    SpanKind.SERVER,
    undefined,
    at,
    total,
    {
      'http.request.method': checkout ? 'POST' : 'GET',
      'http.response.status_code': failed ? 500 : 200,
      'http.route': checkout ? '/api/orders' : '/api/products/:id',
    },
  );
  if (failed) root.made.setStatus({ code: SpanStatusCode.ERROR });
  const parts: ReturnType<typeof span>[] = [];
  if (!checkout) {
    const client = span('gateway', 'GET', SpanKind.CLIENT, root.made, at + 1, total - 2);
    const server = span('catalog', 'GET /api/products/:id', SpanKind.SERVER, client.made, at + 2, total - 4);
    parts.push(
      client,
      server,
      span('catalog', 'get', SpanKind.CLIENT, server.made, at + 3, 1, { 'db.system.name': 'redis' }),
    );
    parts.push(
      span('catalog', 'SELECT catalog.products', SpanKind.CLIENT, server.made, at + 4, total - 8, {
        'db.system.name': 'mysql',
      }),
    );
    log('gateway', root.made, 'info', 'request served', at + total);
    log('catalog', server.made, 'info', 'request served', at + total - 2);
  } else {
    const orders = span('orders', 'POST /api/orders', SpanKind.SERVER, root.made, at + 2, total - 4);
    const catalog = span('catalog', 'GET /api/products/:id', SpanKind.SERVER, orders.made, at + 4, 10);
    const payments = span('payments', 'POST /api/payments', SpanKind.SERVER, orders.made, at + 20, total - 40);
    const publish = span('orders', 'orders publish', SpanKind.PRODUCER, orders.made, at + total - 10, 2);
    const inventory = span('inventory', 'orders.created process', SpanKind.CONSUMER, publish.made, at + total, 15);
    const notify = span('notifications', 'orders.created process', SpanKind.CONSUMER, publish.made, at + total, 12);
    parts.push(orders, catalog, payments, publish, inventory, notify);
    parts.push(span('gateway', 'POST', SpanKind.CLIENT, root.made, at + 1, total - 2));
    parts.push(span('auth', 'verify token', SpanKind.INTERNAL, root.made, at, 1));
    for (const [service, parent] of [
      ['orders', orders],
      ['payments', payments],
      ['inventory', inventory],
      ['notifications', notify],
    ] as const)
      parts.push(span(service, 'INSERT', SpanKind.CLIENT, parent.made, at + 30, 3, { 'db.system.name': 'mysql' }));
    parts.push(
      span('catalog', 'SELECT catalog.products', SpanKind.CLIENT, catalog.made, at + 5, 4, {
        'db.system.name': 'mysql',
      }),
    );
    for (const [service, parent] of [
      ['gateway', root],
      ['orders', orders],
      ['payments', payments],
      ['inventory', inventory],
      ['notifications', notify],
    ] as const)
      log(
        service,
        parent.made,
        failed ? 'error' : 'info',
        failed ? 'checkout failed' : 'checkout step done',
        at + total,
      );
    log('orders', orders.made, 'info', 'order created', at + total - 5);
  }
  for (const part of parts) part.end();
  root.end();
}

const cpuSeconds = (pid: number) => {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 10 ms
};
const received = async () => {
  const text = await (await fetch(`${QUERY}/metrics`)).text();
  return Number(/lab_store_received_total\{signal="spans"\} (\d+)/.exec(text)?.[1] ?? 0);
};
const gauge = async (name: string) => {
  const text = await (await fetch(`${QUERY}/metrics`)).text();
  return [...text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))]
    .map((m) => `${m[1] ?? ''} ${m[2]}`)
    .join(', ');
};

async function timed(url: string, times: number): Promise<{ p50: number; p95: number; size: number }> {
  const ms: number[] = [];
  let size = 0;
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    const response = await fetch(url);
    size = (await response.text()).length;
    if (!response.ok) throw new Error(`${url}: ${response.status}`);
    ms.push(performance.now() - started);
  }
  ms.sort((a, b) => a - b);
  return { p50: median(ms), p95: ms[Math.ceil(ms.length * 0.95) - 1], size };
}

/** Prints the figures; `make bench BENCH=store` runs it, or `node bench/store.ts [live minutes]` alone. */
export async function measureStore(liveMinutes: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-store-'));
  // With the V8 flag and glibc setting the lab gives its Node processes (lab/src/topology.ts).
  const store = spawn(process.execPath, ['--max-semi-space-size=2', 'lab/dist/components/store/main.js'], {
    env: {
      PATH: process.env.PATH,
      MALLOC_MMAP_THRESHOLD_: '131072',
      STORE_OTLP_PORT: '61400',
      STORE_QUERY_PORT: '61401',
      STORE_DB: path.join(dir, 'telemetry.db'),
    },
    stdio: 'inherit',
  });
  const pid = store.pid as number;
  try {
    await until(async () => ((await tryFetch(`${QUERY}/health/ready`))?.ok ? true : undefined), 15_000, 'store ready');
    console.log(`${machine()}; store pid ${pid}, db in ${dir}`);

    console.log(`Live: ${RATE} req/s for ${liveMinutes} min through the SDK's batch processors (defaults) ...`);
    const live = sdks(false);
    const [spansBefore, receivedBefore] = [spansMade, await received()];
    const cpuBefore = cpuSeconds(pid);
    const liveStart = performance.now();
    const pss: number[] = [];
    for (let n = 0; performance.now() - liveStart < liveMinutes * 60_000; n++) {
      const due = liveStart + n * (1000 / RATE);
      if (due > performance.now()) await sleep(due - performance.now());
      request(live, Date.now(), n);
      if (n % (RATE * 10) === 0) pss.push(memoryMiB(pid).pss);
    }
    const cpu = cpuSeconds(pid) - cpuBefore;
    const seconds = (performance.now() - liveStart) / 1000;
    await Promise.all(Object.values(live).map((s) => s.flush()));
    const made = spansMade - spansBefore;
    const got = await until(
      async () => {
        const now = (await received()) - receivedBefore;
        return now >= made ? now : undefined;
      },
      20_000,
      'every live span received',
    ).catch(async () => (await received()) - receivedBefore);
    const memory = memoryMiB(pid);
    console.log(
      `  ${loadAverage()}; rows: ${await gauge('lab_store_rows')}; db bytes ${await gauge('lab_store_db_bytes')}`,
    );

    console.log('Backfilling 60 minutes at 50 req/s for the queries ...');
    const backfill = sdks(true);
    const hourAgo = Date.now() - 3600_000;
    const started = performance.now();
    for (let i = 0; i < 3600 * RATE; i++) {
      request(backfill, hourAgo + i * (1000 / RATE), i);
      if (i % 5000 === 4999) await Promise.all(Object.values(backfill).map((s) => s.flush()));
    }
    await Promise.all(Object.values(backfill).map((s) => s.flush()));
    console.log(
      `  ${spansMade - made} spans in ${((performance.now() - started) / 1000).toFixed(0)} s; rows: ${await gauge('lab_store_rows')}`,
    );

    const afterBackfill = memoryMiB(pid);
    const hour = `start=${(Date.now() - 3600_000) * 1000}&end=${Date.now() * 1000}`;
    const logs = (q: string, extra = '') =>
      `${QUERY}/loki/api/v1/query_range?query=${encodeURIComponent(q)}&start=${Date.now() - 3600_000}000000${extra}`;
    const queries: [string, string][] = [
      ['Jaeger search: orders, last hour, limit 20', `${QUERY}/api/traces?service=orders&limit=20&${hour}`],
      [
        'Jaeger search: gateway error=true minDuration=200ms',
        `${QUERY}/api/traces?service=gateway&tags=${encodeURIComponent('{"error":"true"}')}&minDuration=200ms&limit=20&${hour}`,
      ],
      [
        'Loki: {service_name="orders"} |= "order created", limit 100',
        logs('{service_name="orders"} |= "order created"'),
      ],
      ['Loki: {service_name=~".+"} | severity_text="error"', logs('{service_name=~".+"} | severity_text="error"')],
      [
        'Loki: sum by (severity_text) (count_over_time(gateway [1m])), 1 h',
        logs('sum by (severity_text) (count_over_time({service_name="gateway"}[1m]))', '&step=60'),
      ],
    ];
    const rows: (string | number)[][] = [];
    for (const [name, url] of queries) {
      const t = await timed(url, 30);
      rows.push([name, t.p50.toFixed(0), t.p95.toFixed(0), t.size]);
    }
    console.log(`\nStore at ${RATE} req/s (${(made / seconds).toFixed(0)} spans/s) for ${seconds.toFixed(0)} s`);
    console.log(
      table(
        ['figure', 'value'],
        [
          ['CPU, share of one core', `${((cpu / seconds) * 100).toFixed(1)}%`],
          [
            'PSS MiB at the end (min / median / max every 10 s)',
            `${memory.pss.toFixed(0)} (${Math.min(...pss).toFixed(0)} / ${median(pss).toFixed(0)} / ${Math.max(...pss).toFixed(0)})`,
          ],
          ['RSS MiB at the end', memory.rss.toFixed(0)],
          ['PSS MiB after the backfill burst (an hour in a minute)', afterBackfill.pss.toFixed(0)],
          ['spans made / received / lost', `${made} / ${got} / ${made - got}`],
        ],
      ),
    );
    console.log('\nQueries over the data kept (30 runs each, ms)');
    console.log(table(['query', 'p50', 'p95', 'bytes'], rows));
  } finally {
    store.kill('SIGTERM');
  }
}

if (import.meta.url === `file://${path.resolve(process.argv[1] ?? '')}`)
  await measureStore(Number(process.argv[2] ?? 10));
