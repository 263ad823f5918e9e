/**
 * End to end, the way a learner runs it: `lab up` in lite mode from nothing (a fresh LAB_HOME:
 * no .env, no .lab/), then status, traffic, Prometheus targets, a real outage that pages, and
 * `lab down` leaving nothing behind. Needs the real MySQL, Redis and RabbitMQ on their usual
 * ports, Debian's prometheus and prometheus-alertmanager, and the lab ports free.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { jaegerClient, serviceOf, type JaegerTrace } from '../src/core/clients/jaeger';
import { logqlString, lokiClient } from '../src/core/clients/loki';
import { labPaths, ROOT } from '../src/core/paths';
import { alive, readPid, readPids } from '../src/core/runtime/processes';
import { components, STORE } from '../src/core/topology';
import { dashboardQueries, substituteVariables } from '../../test/observability/dashboards';
import { api, bearer } from '../../test/support/client';
import { eventually } from '../../test/support/eventually';

const run = promisify(execFile);
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-e2e-'));
const paths = labPaths({ LAB_HOME: home });
const env = { ...process.env, LAB_HOME: home, NO_COLOR: '1' };
const ports = components({ paths, env: {} }).flatMap((c) => [c.port, ...(c.otherPorts ?? [])]);
const PROMETHEUS = 'http://127.0.0.1:9090';
const GATEWAY = 'http://127.0.0.1:8080';
// The learner's lab: the store on OTLP/HTTP's and Jaeger's own ports.
const STORE_QUERY = 'http://127.0.0.1:16686';
const SERVICES = ['gateway', 'auth', 'catalog', 'orders', 'payments', 'inventory', 'notifications'];

const lab = async (...args: string[]) => {
  try {
    const { stdout } = await run(process.execPath, [path.join(ROOT, 'lab/bin/lab.js'), ...args], {
      env,
      timeout: 280_000,
    });
    return { code: 0, stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

type Sample = { metric: Record<string, string>; value: [number, string] };
const query = async (promql: string) => {
  const res = await fetch(`${PROMETHEUS}/api/v1/query?query=${encodeURIComponent(promql)}`);
  return ((await res.json()) as { data: { result: Sample[] } }).data.result;
};

/** The alert that fires when a scrape target is down, read from the rules rather than assumed. */
function targetDownAlert(): string {
  const dir = path.join(ROOT, 'observability/prometheus/rules');
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.yml') && !f.endsWith('.test.yml'))) {
    const doc = parse(fs.readFileSync(path.join(dir, file), 'utf8')) as {
      groups: Array<{ rules: Array<{ alert?: string; expr: string }> }>;
    };
    for (const rule of doc.groups.flatMap((g) => g.rules))
      if (rule.alert && /^\s*up\s*==\s*0\s*$/.test(String(rule.expr))) return rule.alert;
  }
  throw new Error('no alerting rule on `up == 0` in observability/prometheus/rules');
}

describe('lite mode, end to end', () => {
  let recorded: number[] = [];
  let paymentsPid: number | undefined;
  let isUp = false; // the later steps mean nothing (and would only wait out their deadlines) without it
  const requireUp = () => {
    if (!isUp) throw new Error('`lab up` did not succeed: see the first test');
  };

  beforeAll(async () => {
    const busy = (await Promise.all(ports.map(async (p) => ((await listening(p)) ? p : 0)))).filter(Boolean);
    if (busy.length) throw new Error(`lab ports already in use (is a lab running? \`lab down\`): ${busy.join(', ')}`);
  });

  afterAll(async () => {
    if (paymentsPid) process.kill(paymentsPid, 'SIGCONT');
    recorded = [...recorded, ...readPids(paths.pids).values(), readPid(paths.supervisorPid) ?? 0].filter(Boolean);
    const down = await lab('down');
    expect(down.code).toBe(0);
    expect(recorded.filter(alive)).toEqual([]);
    const stillListening = (await Promise.all(ports.map(async (p) => ((await listening(p)) ? p : 0)))).filter(Boolean);
    expect(stillListening).toEqual([]);
  }, 60_000);

  it('comes up from nothing, all healthy', async () => {
    const up = await lab('up', '--mode', 'lite', '--json');
    if (up.code !== 0) throw new Error(`lab up exited ${up.code}:\n${up.stderr}`);
    isUp = true;
    expect(fs.existsSync(paths.envFile)).toBe(true);
    recorded = [...readPids(paths.pids).values(), readPid(paths.supervisorPid) ?? 0];
    const status = await lab('status', '--json');
    expect(status.code).toBe(0);
    const data = JSON.parse(status.stdout) as {
      mode: string;
      components: Array<{ name: string; healthy: boolean }>;
      unavailable: Array<{ name: string }>;
    };
    expect(data.mode).toBe('lite');
    expect(data.components.filter((c) => !c.healthy)).toEqual([]);
    expect(data.components.map((c) => c.name)).toEqual(
      expect.arrayContaining(['gateway', 'catalog-2', 'traffic', 'lab-webhook', STORE.name]),
    );
    expect(data.unavailable.map((u) => u.name)).toEqual(['grafana', 'jaeger', 'loki']);
    // Running it again is harmless and says so (`native`: the old name of lite mode, still accepted).
    const again = await lab('up', '--mode', 'native', '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ alreadyRunning: true });
  }, 300_000);

  it('has traffic flowing and every service scraped', async () => {
    requireUp();
    const total = async () => Number((await query('sum(lab_traffic_requests_total)'))[0]?.value[1] ?? NaN);
    const first = await eventually('a traffic count in Prometheus', 60_000, async () => {
      const n = await total();
      return Number.isNaN(n) ? undefined : n;
    });
    await eventually('the traffic count to grow', 60_000, async () => ((await total()) > first ? true : undefined));
    await eventually('every service target up', 60_000, async () => {
      const up = await query(`up{job=~"${SERVICES.join('|')}"}`);
      return up.length === SERVICES.length + 1 && up.every((s) => s.value[1] === '1') ? up : undefined;
    });
  }, 150_000);

  it('keeps one checkout as one trace in its store, found by service, tag and duration, with its logs', async () => {
    requireUp();
    // As a client that traces would: the checkout's trace id is ours, its root's parent our span.
    const traceId = randomBytes(16).toString('hex');
    const clientSpanId = randomBytes(8).toString('hex');
    const email = `trace-${randomUUID()}@shopnow.test`;
    const password = randomBytes(12).toString('base64url');
    expect((await api(GATEWAY, 'POST', '/api/auth/register', { email, password, name: 'trace' })).status).toBe(201);
    const { token } = (await api(GATEWAY, 'POST', '/api/auth/login', { email, password })).json as { token: string };
    const listed = (await api(GATEWAY, 'GET', '/api/products?pageSize=2')).json as { products: { id: number }[] };
    const startUs = Date.now() * 1000;
    const placed = await api(
      GATEWAY,
      'POST',
      '/api/orders',
      { items: [{ productId: listed.products[0].id, quantity: 1 }] },
      { ...bearer(token), 'idempotency-key': `trace-${randomUUID()}`, traceparent: `00-${traceId}-${clientSpanId}-01` },
    );
    expect(placed.status).toBe(201);
    const endUs = Date.now() * 1000 + 1_000_000;

    const CHECKOUT = ['gateway', 'orders', 'catalog', 'payments', 'inventory', 'notifications'];
    const jaeger = jaegerClient(STORE_QUERY);
    const trace = await eventually('the checkout in the store from every service it crossed', 30_000, async () => {
      const found = await jaeger.trace(traceId);
      const services = new Set(found?.spans.map((span) => serviceOf(found, span)));
      return found && CHECKOUT.every((service) => services.has(service)) ? found : undefined;
    });
    const kind = (t: JaegerTrace, value: string, service: string) =>
      t.spans.some(
        (s) => serviceOf(t, s) === service && s.tags.some((g) => g.key === 'span.kind' && g.value === value),
      );
    expect(kind(trace, 'producer', 'orders')).toBe(true);
    expect(kind(trace, 'consumer', 'inventory')).toBe(true);
    expect(kind(trace, 'consumer', 'notifications')).toBe(true);
    // One tree: every span's parent is the client's span or another span of the trace.
    const ids = new Set(trace.spans.map((s) => s.spanID));
    const orphans = trace.spans.filter((s) =>
      s.references.some((r) => r.refType === 'CHILD_OF' && r.spanID !== clientSpanId && !ids.has(r.spanID)),
    );
    expect(orphans.map((s) => `${serviceOf(trace, s)}: ${s.operationName}`)).toEqual([]);

    // The Jaeger search finds it by service, by a tag, and by duration (and not above it).
    const root = trace.spans.find((s) => s.references.some((r) => r.spanID === clientSpanId));
    expect(root && serviceOf(trace, root)).toBe('gateway');
    const rootMs = (root?.duration ?? 0) / 1000;
    const search = async (q: { service: string; tags?: Record<string, string>; minDuration?: string }) =>
      (await jaeger.search({ ...q, startUs, endUs, limit: 1000 })).map((t) => t.traceID);
    expect(await search({ service: 'notifications' })).toContain(traceId);
    expect(await search({ service: 'gateway', tags: { 'http.response.status_code': '201' } })).toContain(traceId);
    expect(await search({ service: 'gateway', minDuration: `${Math.floor(rootMs)}ms` })).toContain(traceId);
    expect(await search({ service: 'gateway', minDuration: `${Math.ceil(rootMs) + 1}ms` })).not.toContain(traceId);

    // Its log records, through the Loki API, by trace_id.
    const loki = lokiClient(STORE_QUERY);
    const lines = await eventually('the log records of the checkout', 30_000, async () => {
      const found = await loki.lines({
        query: `{service_name=~".+"} | trace_id=${logqlString(traceId)}`,
        startNs: BigInt(startUs) * 1000n,
        endNs: BigInt(endUs) * 1000n,
      });
      return found.some((l) => l.labels.service_name === 'orders') ? found : undefined;
    });
    expect(new Set(lines.map((l) => l.labels.trace_id))).toEqual(new Set([traceId]));

    // And `lab traces` lists it, with every span counted.
    const listing = await lab('traces', '--service', 'notifications', '--limit', '100', '--json');
    expect(listing.code).toBe(0);
    const listed2 = JSON.parse(listing.stdout) as { traces: Array<{ traceId: string; spans: number }> };
    // (at least the spans seen above: a late one, the consumers' acks, may have arrived since)
    expect(listed2.traces.find((t) => t.traceId === traceId)?.spans).toBeGreaterThanOrEqual(trace.spans.length);
    const up = await eventually('the store scraped', 30_000, async () => {
      const result = await query(`up{job="${STORE.name}"}`);
      return result[0]?.value[1] === '1' ? result : undefined;
    });
    expect(up).toHaveLength(1);
  }, 120_000);

  it('pages when payments stops answering', async () => {
    requireUp();
    const alertname = targetDownAlert();
    const pid = readPid(path.join(paths.pids, 'payments.pid'));
    if (!pid) throw new Error('payments has no pid file');
    paymentsPid = pid;
    process.kill(pid, 'SIGSTOP'); // hung, not dead: the supervisor does not restart it
    const page = await eventually(`${alertname} for payments in \`lab pages\``, 180_000, async () => {
      const { stdout } = await lab('pages', '--json');
      const pages = (
        JSON.parse(stdout) as { pages: Array<{ alertname: string; status: string; labels: Record<string, string> }> }
      ).pages;
      return pages.find((p) => p.alertname === alertname && p.status === 'firing' && p.labels.job === 'payments');
    });
    expect(page.labels.instance).toBe('127.0.0.1:8084');
    const status = JSON.parse((await lab('status', '--json')).stdout) as { alerts: Array<{ alertname: string }> };
    expect(status.alerts.map((a) => a.alertname)).toContain(alertname);
    process.kill(pid, 'SIGCONT');
    paymentsPid = undefined;
  }, 200_000);

  // After the page, so that the alert panels have a firing alert to show.
  it('answers every dashboard query with data, under traffic', async () => {
    requireUp();
    // The collector's span metrics and its own exist only in the full stack (there is no collector here).
    const fullStackOnly = /traces_span_metrics|otelcol_/;
    const queries = dashboardQueries().filter((q) => q.language === 'promql' && !fullStackOnly.test(q.expr));
    expect(queries.length).toBeGreaterThan(40);
    const emptyPanels = async () => {
      const empty: string[] = [];
      for (const q of queries) {
        if ((await query(substituteVariables(q.expr))).length === 0)
          empty.push(`${q.dashboard} / ${q.panel}: ${q.expr}`);
      }
      return empty;
    };
    // Right after payments comes back, the checkout panels wait for the next paid order.
    let empty: string[] = [];
    await eventually('every dashboard query to return data', 90_000, async () => {
      empty = await emptyPanels();
      return empty.length === 0 ? true : undefined;
    }).catch(() => undefined);
    expect(empty).toEqual([]);
  }, 150_000);
});
