// `make docker-smoke`: the full stack on a machine with a Docker engine, end to end, in about as
// long as the images take to pull: up, one checkout, its trace in Jaeger, a log line in Loki, a
// dashboard query through Grafana, down. What the tests verify without an engine is listed in
// docs/architecture.md; this is what only an engine can show. Node runs it by stripping its types.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const LAB = [process.execPath, path.join(ROOT, 'lab/bin/lab.js')];
const GATEWAY = 'http://127.0.0.1:8080';

function fail(message: string): never {
  console.error(`docker-smoke: ${message}`);
  process.exit(1);
}

/** Polls `check` until it returns a value, or fails naming `what` after `seconds`. */
async function eventually<T>(what: string, seconds: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) {
        console.log(`  ok  ${what}`);
        return value;
      }
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  return fail(`${what}: not within ${seconds} s${last ? ` (${last})` : ''}`);
}

async function json(url: string, init?: RequestInit): Promise<Record<string, unknown>> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...init?.headers } });
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

async function checkout(): Promise<void> {
  const user = { email: `smoke-${Date.now()}@shopnow.test`, password: `Smoke-${Date.now()}-pw1!`, name: 'smoke' };
  await json(`${GATEWAY}/api/auth/register`, { method: 'POST', body: JSON.stringify(user) });
  const { token } = await json(`${GATEWAY}/api/auth/login`, { method: 'POST', body: JSON.stringify(user) });
  const { products } = (await json(`${GATEWAY}/api/products?page=1&pageSize=5`)) as { products: Array<{ id: number }> };
  await json(`${GATEWAY}/api/orders`, {
    method: 'POST',
    headers: { authorization: `Bearer ${String(token)}`, 'idempotency-key': `smoke-${Date.now()}` },
    body: JSON.stringify({ items: [{ productId: products[0].id, quantity: 1 }] }),
  });
}

async function main(): Promise<void> {
  const engine = spawnSync('docker', ['info'], { encoding: 'utf8' });
  if (engine.status !== 0)
    fail(
      `no Docker engine answers (\`docker info\`: ${(engine.stderr || engine.error?.message || '').trim()}); ` +
        'this target needs one: the tests run without it (see docs/architecture.md)',
    );
  const up = spawnSync(LAB[0], [LAB[1], 'up'], { stdio: 'inherit', env: { ...process.env, LAB_MODE: 'docker' } });
  if (up.status !== 0) fail('lab up failed (docker compose up --wait): see above, and `docker compose ps`');
  try {
    await eventually('one checkout through the gateway', 120, async () => (await checkout(), true));
    await eventually('its trace in Jaeger (orders, POST)', 60, async () => {
      const { data } = (await json('http://127.0.0.1:16686/api/traces?service=orders&lookback=10m&limit=50')) as {
        data: Array<{ spans: Array<{ operationName: string }> }>;
      };
      return data.some((t) => t.spans.some((s) => s.operationName.startsWith('POST'))) || undefined;
    });
    await eventually('a log line of orders in Loki', 60, async () => {
      const query = encodeURIComponent('{service_name="orders"}');
      const { data } = (await json(`http://127.0.0.1:3100/loki/api/v1/query_range?query=${query}&limit=5`)) as {
        data: { result: unknown[] };
      };
      return data.result.length > 0 || undefined;
    });
    // A panel of the overview dashboard, through Grafana's provisioned Prometheus datasource.
    const title = 'Request rate by service';
    const dashboard = JSON.parse(
      readFileSync(path.join(ROOT, 'observability/grafana/dashboards/lab-overview.json'), 'utf8'),
    ) as { panels: Array<{ title: string; targets?: Array<{ expr?: string }> }> };
    const expr = dashboard.panels
      .find((p) => p.title === title)
      ?.targets?.[0]?.expr?.replaceAll('$__rate_interval', '1m');
    if (!expr) fail(`lab-overview.json has no panel "${title}" any more: pick another one here`);
    await eventually(`the dashboard query "${title}" through Grafana`, 90, async () => {
      const url = `http://127.0.0.1:3000/api/datasources/proxy/uid/prometheus/api/v1/query?query=${encodeURIComponent(expr)}`;
      const { data } = (await json(url)) as { data: { result: unknown[] } };
      return data.result.length > 0 || undefined;
    });
  } finally {
    spawnSync(LAB[0], [LAB[1], 'down'], { stdio: 'inherit', env: { ...process.env, LAB_MODE: 'docker' } });
  }
  console.log('docker-smoke: the full stack works end to end');
}

void main();
