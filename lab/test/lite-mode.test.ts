/**
 * End to end, the way a learner runs it: `lab up` in lite mode from nothing (a fresh LAB_HOME:
 * no .env, no .lab/), then status, traffic, Prometheus targets, a real outage that pages, and
 * `lab down` leaving nothing behind. Needs the real MySQL, Redis and RabbitMQ on their usual
 * ports, Debian's prometheus and prometheus-alertmanager, and the lab ports free.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { labPaths, ROOT } from '../src/core/paths';
import { alive, readPid, readPids } from '../src/core/runtime/processes';
import { components } from '../src/core/topology';
import { dashboardQueries, substituteVariables } from '../../test/observability/dashboards';
import { eventually } from '../../test/support/eventually';

const run = promisify(execFile);
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-e2e-'));
const paths = labPaths({ LAB_HOME: home });
const env = { ...process.env, LAB_HOME: home, NO_COLOR: '1' };
const ports = components({ paths, env: {} }).flatMap((c) => [c.port, ...(c.otherPorts ?? [])]);
const PROMETHEUS = 'http://127.0.0.1:9090';
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
      expect.arrayContaining(['gateway', 'catalog-2', 'traffic', 'lab-webhook']),
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
