import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { parser as logqlParser } from '@grafana/lezer-logql';
import { parser as promqlParser } from '@prometheus-io/lezer-promql';
import {
  GRAFANA_DIR,
  ROOT,
  allPanels,
  dashboardFiles,
  dashboardQueries,
  loadDashboard,
  provisionedDatasources,
  substituteVariables,
} from './dashboards';
import { knownMetricNames } from './metric-contract';
import { expandLinks, jaegerSpan, type Link } from './span-links';
import { promqlErrors } from './promql';

// PromQL syntax goes through the shared helper (promql.ts); the tree walks below add what it does
// not do: LogQL errors and the metric names a query reads.

/** What both lezer parsers return, as far as these checks read it. */
interface Tree {
  iterate(spec: {
    enter: (node: {
      name: string;
      from: number;
      to: number;
      type: { isError: boolean };
      node: { firstChild: { name: string; from: number; to: number } | null };
    }) => void;
  }): void;
}

/** The text under each error node of a LogQL tree; empty when the query parsed cleanly. */
function syntaxErrors(tree: Tree, source: string): string[] {
  const errors: string[] = [];
  tree.iterate({
    enter: (node) => {
      if (node.type.isError)
        errors.push(`at ${node.from}: "${source.slice(Math.max(0, node.from - 10), node.to + 10)}"`);
    },
  });
  return errors;
}

/** Metric names: the Identifier that opens each VectorSelector. */
function metricNames(tree: Tree, source: string): string[] {
  const names: string[] = [];
  tree.iterate({
    enter: (node) => {
      if (node.name !== 'VectorSelector') return;
      const first = node.node.firstChild;
      if (first?.name === 'Identifier') names.push(source.slice(first.from, first.to));
    },
  });
  return names;
}

const queries = dashboardQueries();
const promql = queries.filter((q) => q.language === 'promql');
const logql = queries.filter((q) => q.language === 'logql');
const label = (q: { dashboard: string; panel: string }) => `${q.dashboard} / ${q.panel}`;

describe('Grafana provisioning', () => {
  const datasourcesFile = path.join(GRAFANA_DIR, 'provisioning/datasources/datasources.yml');
  const text = readFileSync(datasourcesFile, 'utf8');
  type Datasource = { uid: string; type: string; url: string; jsonData: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  const datasources = (parse(text) as { datasources: Datasource[] }).datasources;
  const byUid = Object.fromEntries(datasources.map((ds) => [ds.uid, ds]));

  it('provisions Prometheus, Loki and Jaeger under fixed uids, at their compose addresses', () => {
    expect(datasources.map((ds) => [ds.uid, ds.type, ds.url])).toEqual([
      ['prometheus', 'prometheus', 'http://prometheus:9090'],
      ['loki', 'loki', 'http://loki:3100'],
      ['jaeger', 'jaeger', 'http://jaeger:16686'],
    ]);
  });

  it('links an exemplar, a log line and a span to the other signals', () => {
    expect(byUid.prometheus.jsonData.exemplarTraceIdDestinations).toEqual([
      { name: 'trace_id', datasourceUid: 'jaeger' },
    ]);
    expect(byUid.loki.jsonData.derivedFields).toEqual([
      expect.objectContaining({ matcherType: 'label', matcherRegex: 'trace_id', datasourceUid: 'jaeger' }),
    ]);
    const { tracesToLogsV2, tracesToMetrics } = byUid.jaeger.jsonData;
    expect(tracesToLogsV2.datasourceUid).toBe('loki');
    expect(tracesToLogsV2.query).toContain('trace_id="$${__span.traceId}"');
    expect(tracesToMetrics.datasourceUid).toBe('prometheus');
  });

  describe('the links, expanded for a span as Jaeger 2.20 returns it', () => {
    const span = jaegerSpan('orders');
    const known = knownMetricNames();
    /** What is wrong with a link's query, if anything. */
    const problems = (link: Link): string[] => {
      if (link.language === 'logql') return syntaxErrors(logqlParser.parse(link.query), link.query);
      if (link.language === 'trace-id') return /^[0-9a-f]{32}$/.test(link.query) ? [] : ['not a trace id'];
      const unknown = metricNames(promqlParser.parse(link.query), link.query).filter((name) => !known.has(name));
      return [...promqlErrors(link.query), ...unknown.map((name) => `unknown metric ${name}`)];
    };

    it('has service.name as process.serviceName only, and the collector-made copy as a process tag', () => {
      expect(span.process.serviceName).toBe('orders');
      expect(span.process.tags.map((t) => t.key)).not.toContain('service.name');
      expect(span.process.tags).toContainEqual({ key: 'lab.service', value: 'orders' });
    });

    it('expands traces->logs, traces->metrics, exemplars->traces and logs->traces to queries that parse', () => {
      const links = expandLinks(span);
      expect(links.map((l) => l.from.split(' ')[0])).toEqual(expect.arrayContaining(['trace', 'exemplar', 'log']));
      expect(links.filter((l) => l.language === 'promql').length).toBe(3);
      expect(links.map((l) => [l.from, l.query, problems(l)]).filter(([, , p]) => p.length > 0)).toEqual([]);
      // Narrowed to the span's service and trace, not to everything.
      expect(links.find((l) => l.language === 'logql')?.query).toBe(
        `{service_name="orders"} | trace_id="${span.traceID}"`,
      );
      for (const link of links.filter((l) => l.language === 'promql')) expect(link.query).toContain('job="orders"');
    });

    it('would have caught links built on service.name, which Jaeger leaves out of the tags', () => {
      const spanOf = jaegerSpan('orders', (resource) => resource); // no collector copy
      const broken = expandLinks(spanOf).filter((l) => l.language !== 'trace-id' && problems(l).length > 0);
      expect(broken.map((l) => l.from)).toEqual(
        expect.arrayContaining(['trace -> logs', 'trace -> metrics (Error rate)']),
      );
    });
  });

  it('escapes every `$` Grafana must see literally, so its env expansion leaves it alone', () => {
    // After parsing, `$$` is still `$$`: Grafana turns it into `$` when it reads the file.
    expect(text.match(/(?<!\$)\$(?!\$)/g)).toBeNull();
    expect(text).toContain('$${__value.raw}');
  });

  it('loads the dashboards from where compose mounts them', () => {
    const providers = parse(readFileSync(path.join(GRAFANA_DIR, 'provisioning/dashboards/dashboards.yml'), 'utf8')) as {
      providers: Array<{ options: { path: string } }>;
    };
    const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
      services: { grafana: { volumes: string[]; environment: Record<string, string> } };
    };
    const mount = compose.services.grafana.volumes.find((v) => v.startsWith('./observability/grafana/dashboards:'));
    expect(mount?.split(':')[1]).toBe(providers.providers[0].options.path);
    const home = compose.services.grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    expect(dashboardFiles().map((file) => `${providers.providers[0].options.path}/${file}`)).toContain(home);
  });
});

describe('Grafana dashboards', () => {
  const files = dashboardFiles();

  it('has the six dashboards of the lab', () => {
    expect(files).toEqual([
      'dependencies.json',
      'lab-overview.json',
      'node-runtime.json',
      'service-red.json',
      'slo.json',
      'traffic.json',
    ]);
  });

  it('gives every dashboard a unique fixed uid, a title and a current schemaVersion', () => {
    const dashboards = files.map(loadDashboard);
    const uids = dashboards.map((d) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const dashboard of dashboards) {
      expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
      expect(dashboard.title).toMatch(/^ShopNow: /);
      expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(41);
    }
  });

  it('refers to datasources by a provisioned uid only, on every panel, target and variable', () => {
    const uids = provisionedDatasources();
    const refs = files.flatMap((file) => {
      const dashboard = loadDashboard(file);
      const panels = allPanels(dashboard).filter((panel) => panel.type !== 'row');
      return [
        ...panels.map((panel) => ({ where: `${file} / ${panel.title}`, ref: panel.datasource })),
        ...panels.flatMap((panel) =>
          (panel.targets ?? []).map((target) => ({
            where: `${file} / ${panel.title} (target)`,
            ref: target.datasource,
          })),
        ),
        ...(dashboard.templating?.list ?? []).map((v) => ({ where: `${file} / $${v.name}`, ref: v.datasource })),
      ];
    });
    expect(refs.length).toBeGreaterThan(50);
    const unknown = refs.filter(({ ref }) => !ref?.uid || uids.get(ref.uid) !== ref.type).map(({ where }) => where);
    expect(unknown).toEqual([]);
  });

  it('has a templated `service` variable where a dashboard is about one service', () => {
    for (const file of ['service-red.json', 'node-runtime.json']) {
      const names = (loadDashboard(file).templating?.list ?? []).map((v) => v.name);
      expect(names).toContain('service');
    }
  });

  it('shows exemplars on the per-service latency panel and links it to Jaeger', () => {
    const panel = allPanels(loadDashboard('service-red.json')).find((p) => p.title.startsWith('Latency'));
    expect(panel?.targets?.some((t) => t.exemplar === true)).toBe(true);
    const links = (panel as unknown as { fieldConfig: { defaults: { links: Array<{ url: string }> } } }).fieldConfig
      .defaults.links;
    expect(links.map((l) => l.url).join(' ')).toContain('16686/search?service=${service}');
  });

  it('has a Loki panel on every dashboard', () => {
    for (const file of files) expect(logql.filter((q) => q.dashboard === file).length).toBeGreaterThan(0);
  });
});

describe('dashboard PromQL', () => {
  it('finds queries to check', () => {
    expect(promql.length).toBeGreaterThan(60);
  });

  it.each(promql.map((q) => [label(q), q.expr]))('%s parses: %s', (_where, expr) => {
    const source = substituteVariables(expr);
    expect(promqlErrors(source)).toEqual([]);
  });

  it('uses only metric names that something exposes (catches typos)', () => {
    const known = knownMetricNames();
    const unknown = promql.flatMap((q) => {
      const source = substituteVariables(q.expr);
      return metricNames(promqlParser.parse(source), source)
        .filter((name) => !known.has(name))
        .map((name) => `${label(q)}: ${name}`);
    });
    expect(unknown).toEqual([]);
  });

  it('never matches the le label by string equality (Prometheus 3 writes le="1.0")', () => {
    expect(promql.filter((q) => /\ble\s*=\s*"/.test(q.expr)).map(label)).toEqual([]);
  });

  it('uses the SLO thresholds of the contract on the SLO dashboard', () => {
    const slo = promql.filter((q) => q.dashboard === 'slo.json').map((q) => q.expr);
    expect(slo.some((e) => e.includes('/ 0.005') && e.includes('route="/api/orders", method="POST"'))).toBe(true);
    expect(slo.some((e) => e.includes('/ 0.01') && e.includes('le=~"1(\\\\.0)?"'))).toBe(true);
    expect(slo.some((e) => e.includes('[30d]'))).toBe(true);
  });
});

describe('dashboard LogQL', () => {
  it.each(logql.map((q) => [label(q), q.expr]))('%s parses: %s', (_where, expr) => {
    const source = substituteVariables(expr);
    expect(syntaxErrors(logqlParser.parse(source), source)).toEqual([]);
  });

  it('selects streams by the service_name label Loki 3 makes from service.name', () => {
    for (const q of logql) expect(q.expr).toMatch(/\{service_name(=|=~)"/);
  });
});

describe('the parsers used above', () => {
  // Guards the checks themselves: a broken query must be reported, not silently pass.
  it('report a broken PromQL and LogQL query', () => {
    const badPromql = 'sum(rate(http_server_request_duration_seconds_count[5m])';
    expect(promqlErrors(badPromql)).not.toEqual([]);
    const badLogql = '{service_name="orders"} | level="error" [';
    expect(syntaxErrors(logqlParser.parse(badLogql), badLogql)).not.toEqual([]);
  });

  it('find metric names and refuse unknown ones', () => {
    const source = 'sum(rate(http_server_request_duration_seconds_cuont[1m])) / sum(up)';
    expect(metricNames(promqlParser.parse(source), source)).toEqual([
      'http_server_request_duration_seconds_cuont',
      'up',
    ]);
    expect(knownMetricNames().has('http_server_request_duration_seconds_cuont')).toBe(false);
    expect(knownMetricNames().has('nodejs_eventloop_lag_p99_seconds')).toBe(true);
  });

  it('substitute every Grafana variable or fail', () => {
    expect(substituteVariables('rate(x{job="$service"}[$__rate_interval])')).toBe('rate(x{job="gateway"}[1m])');
    expect(() => substituteVariables('rate(x[$__unknown])')).toThrow(/no sample value/);
  });
});
