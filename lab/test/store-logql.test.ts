import fs from 'node:fs';
import path from 'node:path';
import { startStore, type StoreProcess } from './store-process';

// Every LogQL query the lab itself shows (dashboards, alert annotations, exercise READMEs) runs.
describe('the LogQL the lab uses (ports 14334-14335)', () => {
  const root = path.resolve(__dirname, '../..');
  const dashboards = fs
    .readdirSync(path.join(root, 'observability/grafana/dashboards'))
    .flatMap((file) => {
      const text = fs.readFileSync(path.join(root, 'observability/grafana/dashboards', file), 'utf8');
      const exprs = [...text.matchAll(/"expr": "((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
      return exprs.filter((e) => /service_name=|service_instance_id=/.test(e) && !e.includes('traces_span_metrics'));
    })
    .map((e) => e.replace(/\$service/g, 'orders').replace(/\$__interval|\$__rate_interval/g, '1m'));
  const documented = [
    '{service_name="gateway"} | level="error"',
    '{service_name="inventory"} | outcome="dead_letter"',
    'sum by (service_instance_id) (count_over_time({service_name=~".+"}[1m]))',
    '{service_instance_id="orders-1"}',
    '{service_name="gateway"} |= "over its rate limit"',
    '{service_name="orders"} |= "o-42"',
  ];
  const queries = [...new Set([...dashboards, ...documented])];

  let store: StoreProcess;
  beforeAll(async () => {
    store = await startStore(14334);
  });
  afterAll(() => store.stop());

  it("finds the dashboards' log queries", () => {
    expect(dashboards.length).toBeGreaterThanOrEqual(5);
  });
  it.each(queries)('answers %s', async (query) => {
    const url = new URL('/loki/api/v1/query_range', store.query);
    url.searchParams.set('query', query);
    const response = await fetch(url);
    expect([response.status, response.status === 200 ? '' : await response.text()]).toEqual([200, '']);
    const body = (await response.json()) as { status: string; data: { resultType: string } };
    expect(body.status).toBe('success');
    expect(['streams', 'matrix']).toContain(body.data.resultType);
  });
});
