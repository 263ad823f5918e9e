import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readLogs } from '../src/core/actions/logs';
import { labPaths, ROOT } from '../src/core/paths';
import { targetGroups } from '../src/core/runtime/observability';
import { components, STORE } from '../src/core/topology';

const env = {
  JWT_SECRET: 'j'.repeat(40),
  LAB_TOKEN: 't',
  CATALOG_DB_PASSWORD: 'pw',
  ADMIN_EMAIL: 'a@b.test',
  ADMIN_PASSWORD: 'secret-pw',
};
const paths = labPaths({ LAB_HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'lab-topology-')) });
const byName = (list: ReturnType<typeof components>) => ({
  get: (name: string) => {
    const found = list.find((c) => c.name === name);
    if (!found) throw new Error(`no component ${name}`);
    return found;
  },
  values: () => list,
});

describe('the lite-mode topology', () => {
  it('wires the gateway to both catalog replicas and orders to its dependencies', () => {
    const list = byName(components({ paths, env }));
    expect(list.get('gateway').env.CATALOG_URLS).toBe('http://127.0.0.1:8082,http://127.0.0.1:8092');
    expect(list.get('orders').env).toMatchObject({
      CATALOG_URL: 'http://127.0.0.1:8082',
      PAYMENTS_URL: 'http://127.0.0.1:8084',
    });
    expect(list.get('catalog-2').env).toMatchObject({
      INSTANCE_ID: 'catalog-2',
      OTEL_SERVICE_NAME: 'catalog',
      OTEL_RESOURCE_ATTRIBUTES: 'service.version=1.0.0,service.instance.id=catalog-2',
      MYSQL_URL: 'mysql://catalog:pw@127.0.0.1:3306/catalog',
    });
    expect(list.get('auth').env).toMatchObject({ ADMIN_EMAIL: 'a@b.test', JWT_SECRET: env.JWT_SECRET });
    expect(list.get('payments').env).not.toHaveProperty('JWT_SECRET');
    expect(list.get('traffic').env.GATEWAY_URL).toBe('http://127.0.0.1:8080');
    // Every service exports its spans and log records to the lab's store; the traffic generator has no telemetry.
    for (const c of list.values().filter((c) => c.kind === 'service'))
      expect([c.name, c.env.OTEL_EXPORTER_OTLP_ENDPOINT]).toEqual([c.name, 'http://127.0.0.1:4318']);
    expect(list.get('traffic').env).not.toHaveProperty('OTEL_EXPORTER_OTLP_ENDPOINT');
  });

  it("runs the telemetry store on the learner's 4318 and 16686, and other labs' inside their own ports", () => {
    const store = byName(components({ paths, env: { ...env, STORE_MAX_MB: '64' } })).get(STORE.name);
    expect(store).toMatchObject({ kind: 'store', port: 16686, otherPorts: [4318], url: 'http://127.0.0.1:16686' });
    expect(store.env).toMatchObject({
      STORE_OTLP_PORT: '4318',
      STORE_QUERY_PORT: '16686',
      STORE_DB: path.join(paths.state, 'store', 'telemetry.db'),
      STORE_MAX_MB: '64',
    });
    for (const basePort of [2080, 61080]) {
      const list = byName(components({ paths, env, basePort }));
      expect(list.get(STORE.name)).toMatchObject({ port: basePort + 1018, otherPorts: [basePort + 1016] });
      expect(list.get('orders').env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(`http://127.0.0.1:${basePort + 1016}`);
    }
    // Up before the services and down after them.
    const services = components({ paths, env }).filter((c) => c.kind === 'service');
    expect(Math.max(...services.map((c) => c.stopOrder))).toBeLessThan(store.stopOrder);
  });

  it("gives every Node process glibc's fixed mmap threshold, so freed large blocks leave the process", () => {
    const nodes = components({ paths, env }).filter((c) => c.command === process.execPath);
    expect(nodes.map((c) => c.name)).toEqual(expect.arrayContaining(['auth', 'orders', 'traffic', 'lab-webhook']));
    for (const c of nodes) expect(c.env.MALLOC_MMAP_THRESHOLD_).toBe('131072');
  });

  it('moves every port with basePort and prefixes schemas with schemaPrefix', () => {
    const list = byName(components({ paths, env, basePort: 18080, schemaPrefix: 'e2e_' }));
    expect(list.get('prometheus').args).toContain('--web.listen-address=127.0.0.1:19090');
    expect(list.get('gateway').env.AUTH_URLS).toBe('http://127.0.0.1:18081');
    expect(list.get('catalog-1').schema).toEqual({ name: 'e2e_catalog', user: 'e2e_catalog', password: 'pw' });
    // Its own exchange and queues on the shared RabbitMQ, its own keys on the shared Redis.
    expect(list.get('orders').env.EVENTS_EXCHANGE).toBe('e2e_shopnow.events');
    for (const name of ['catalog-1', 'gateway']) expect(list.get(name).env.REDIS_KEY_PREFIX).toBe('e2e_');
    expect(byName(components({ paths, env })).get('gateway').env).not.toHaveProperty('REDIS_KEY_PREFIX');
  });

  it('gives Prometheus the same jobs in lite mode as targets/compose.json in Docker', () => {
    const compose = JSON.parse(
      fs.readFileSync(path.join(ROOT, 'observability/prometheus/targets/compose.json'), 'utf8'),
    ) as Array<{
      labels: { job: string };
      targets: string[];
    }>;
    const lite = targetGroups(components({ paths, env }));
    const shape = (groups: typeof compose) => groups.map((g) => [g.labels.job, g.targets.length]).sort();
    // The Docker stack has its collector where lite mode has the store.
    expect(shape(lite.filter((g) => g.labels.job !== STORE.name))).toEqual(
      shape(compose.filter((g) => g.labels.job !== 'otel-collector')),
    );
    expect(lite.find((g) => g.labels.job === STORE.name)?.targets).toEqual(['127.0.0.1:16686']);
    expect(lite.find((g) => g.labels.job === 'catalog')?.targets).toEqual(['127.0.0.1:8082', '127.0.0.1:8092']);
  });
});

describe('lab logs', () => {
  it('reads both catalog replicas and filters by trace id and text', () => {
    fs.mkdirSync(paths.logs, { recursive: true });
    const line = (timestamp: string, message: string, trace_id?: string) =>
      JSON.stringify({ level: 'info', message, service: 'catalog', timestamp, trace_id });
    fs.writeFileSync(
      path.join(paths.logs, 'catalog-1.log'),
      `${line('2026-01-01T00:00:02Z', 'cache miss', 'aaa')}\nnot json\n`,
    );
    fs.writeFileSync(path.join(paths.logs, 'catalog-2.log'), `${line('2026-01-01T00:00:01Z', 'cache hit', 'bbb')}\n`);
    const all = readLogs(paths, 'catalog', { tail: 10 }).lines;
    expect(all.map((l) => [l.instance, l.text.includes('json') ? 'raw' : l.record?.message])).toEqual([
      ['catalog-2', 'cache hit'],
      ['catalog-1', 'cache miss'],
      ['catalog-1', 'raw'],
    ]);
    expect(readLogs(paths, 'catalog', { tail: 10, trace: 'aaa' }).lines.map((l) => l.instance)).toEqual(['catalog-1']);
    expect(readLogs(paths, 'catalog-2', { tail: 10, grep: 'hit' }).lines).toHaveLength(1);
    expect(() => readLogs(paths, 'nosuch', { tail: 10 })).toThrow(/unknown service/);
  });

  it('follows one trace across every service when no service is named', () => {
    const line = (service: string, timestamp: string, trace_id: string) =>
      JSON.stringify({ level: 'info', message: 'request completed', service, timestamp, trace_id });
    fs.writeFileSync(
      path.join(paths.logs, 'gateway.log'),
      `${line('gateway', '2026-01-01T00:00:03Z', 'ccc')}
`,
    );
    fs.writeFileSync(
      path.join(paths.logs, 'orders.log'),
      `${line('orders', '2026-01-01T00:00:04Z', 'ccc')}
`,
    );
    const followed = readLogs(paths, undefined, { tail: 10, trace: 'ccc' }).lines.map((l) => l.instance);
    expect(followed).toEqual(['gateway', 'orders']);
  });
});
