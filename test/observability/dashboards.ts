import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/**
 * Every query of the provisioned Grafana dashboards, as (dashboard, panel, expr) triples, so that
 * the static tests (grafana.unit.test.ts) and a run against a live Prometheus/Loki share one list.
 */
export const ROOT = path.resolve(__dirname, '../..');
export const GRAFANA_DIR = path.join(ROOT, 'observability/grafana');
export const DASHBOARDS_DIR = path.join(GRAFANA_DIR, 'dashboards');

export type QueryLanguage = 'promql' | 'logql';

export interface DashboardQuery {
  /** The dashboard's file name, e.g. `slo.json`. */
  dashboard: string;
  /** The panel's title, or `variable <name>` for a template variable's query. */
  panel: string;
  /** The datasource uid the query runs on. */
  datasourceUid: string;
  language: QueryLanguage;
  /** As written in the dashboard, with Grafana's variables still in it. */
  expr: string;
  /** Whether Grafana runs it as an instant query (tables, stats) rather than over a range. */
  instant: boolean;
  /** Whether the panel asks Prometheus for exemplars. */
  exemplar: boolean;
}

interface DatasourceRef {
  uid?: string;
  type?: string;
}

interface Target {
  expr?: string;
  datasource?: DatasourceRef;
  instant?: boolean;
  exemplar?: boolean;
}

export interface Panel {
  type: string;
  title: string;
  datasource?: DatasourceRef;
  targets?: Target[];
  panels?: Panel[];
}

export interface Variable {
  name: string;
  type: string;
  datasource?: DatasourceRef;
  query?: string | { query?: string };
}

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating?: { list: Variable[] };
}

export function dashboardFiles(): string[] {
  return readdirSync(DASHBOARDS_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort();
}

export function loadDashboard(file: string): Dashboard {
  return JSON.parse(readFileSync(path.join(DASHBOARDS_DIR, file), 'utf8')) as Dashboard;
}

/** Every panel, rows' nested panels included. */
export function allPanels(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

/** The provisioned datasources: uid -> type (prometheus, loki, jaeger). */
export function provisionedDatasources(): Map<string, string> {
  const file = path.join(GRAFANA_DIR, 'provisioning/datasources/datasources.yml');
  const config = parse(readFileSync(file, 'utf8')) as { datasources: Array<{ uid: string; type: string }> };
  return new Map(config.datasources.map((ds) => [ds.uid, ds.type]));
}

const LANGUAGE: Record<string, QueryLanguage> = { prometheus: 'promql', loki: 'logql' };

/** `label_values(<selector>, <label>)`: Grafana's own function around a PromQL selector. */
const LABEL_VALUES = /^label_values\((.+),\s*[a-zA-Z_]\w*\)$/;

export function dashboardQueries(): DashboardQuery[] {
  const datasources = provisionedDatasources();
  const languageOf = (uid: string | undefined) => {
    const language = LANGUAGE[datasources.get(uid ?? '') ?? ''];
    if (!language) throw new Error(`no PromQL or LogQL datasource with uid ${uid}`);
    return language;
  };
  return dashboardFiles().flatMap((file) => {
    const dashboard = loadDashboard(file);
    const variables = (dashboard.templating?.list ?? [])
      .filter((variable) => variable.type === 'query')
      .map((variable): DashboardQuery => {
        const raw = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
        return {
          dashboard: file,
          panel: `variable ${variable.name}`,
          datasourceUid: variable.datasource?.uid ?? '',
          language: languageOf(variable.datasource?.uid),
          expr: LABEL_VALUES.exec(raw)?.[1] ?? raw,
          instant: true,
          exemplar: false,
        };
      });
    const targets = allPanels(dashboard).flatMap((panel) =>
      (panel.targets ?? [])
        .filter((target) => target.expr !== undefined)
        .map((target): DashboardQuery => {
          const uid = target.datasource?.uid ?? panel.datasource?.uid ?? '';
          return {
            dashboard: file,
            panel: panel.title,
            datasourceUid: uid,
            language: languageOf(uid),
            expr: target.expr ?? '',
            instant: target.instant === true,
            exemplar: target.exemplar === true,
          };
        }),
    );
    return [...variables, ...targets];
  });
}

/**
 * Sample values for Grafana's variables, so that a query can be parsed or run outside Grafana.
 * Longest names first: `$__rate_interval` must not be read as `$__rate` + `_interval`.
 */
export const SAMPLE_VARIABLES: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '30s',
  __range: '1h',
  __auto: '1m',
  service: 'gateway',
};

export function substituteVariables(expr: string, values: Record<string, string> = SAMPLE_VARIABLES): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, braced?: string, bare?: string) => {
    const name = braced ?? bare ?? '';
    const value = values[name];
    if (value === undefined) throw new Error(`no sample value for Grafana variable ${whole} in: ${expr}`);
    return value;
  });
}
