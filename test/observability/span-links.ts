import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { GRAFANA_DIR, ROOT } from './dashboards';

/**
 * The links Grafana builds between the three datasources, expanded the way Grafana 13 expands
 * them, for one span shaped as Jaeger 2.20's HTTP API returns it. Grafana's rules, as read in its
 * public/app/features/explore/TraceView/createSpanLink.tsx: a trace -> logs/metrics link reads
 * only the span's tags and its process's tags (`${__tags}` and `$__tags` join the configured
 * keys found there as `label="value"`; `${__span.traceId}` is the span's trace id). Jaeger's
 * converter (the collector-contrib jaeger translator 2.20 uses) puts service.name into
 * process.serviceName and every other resource attribute into process.tags.
 */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  tags: Array<{ key: string; value: string }>;
  process: { serviceName: string; tags: Array<{ key: string; value: string }> };
}

type Provisioned = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const datasources = (): Provisioned[] =>
  (
    parse(readFileSync(path.join(GRAFANA_DIR, 'provisioning/datasources/datasources.yml'), 'utf8')) as {
      datasources: Provisioned[];
    }
  ).datasources;

/** Grafana reads `$$` in a provisioning file as a literal `$`. */
const unescape = (text: string) => text.replaceAll('$$', '$');

/** What the collector's `resource` processors in the traces pipeline do to a resource (insert/upsert from_attribute). */
export function collectorResource(resource: Record<string, string>): Record<string, string> {
  const config = parse(readFileSync(path.join(ROOT, 'observability/otel-collector/config.yml'), 'utf8')) as Provisioned;
  const out = { ...resource };
  for (const id of config.service.pipelines.traces.processors as string[]) {
    if (id.split('/')[0] !== 'resource') continue;
    for (const action of config.processors[id].attributes as Provisioned[]) {
      const value = action.from_attribute ? out[action.from_attribute] : action.value;
      if (action.action === 'insert' && !(action.key in out) && value !== undefined) out[action.key] = value;
      if (action.action === 'upsert' && value !== undefined) out[action.key] = value;
    }
  }
  return out;
}

/** An OTLP span of `service`, after the collector, as Jaeger 2.20's /api/traces answers it. */
export function jaegerSpan(service: string, resource = collectorResource): JaegerSpan {
  const { 'service.name': serviceName, ...rest } = resource({
    'service.name': service,
    'service.version': '1.0.0',
    'service.instance.id': service,
    'telemetry.sdk.language': 'nodejs',
  });
  return {
    traceID: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanID: '00f067aa0ba902b7',
    operationName: 'POST /api/orders',
    tags: [
      { key: 'http.request.method', value: 'POST' },
      { key: 'http.route', value: '/api/orders' },
      { key: 'http.response.status_code', value: '201' },
    ],
    process: { serviceName, tags: Object.entries(rest).map(([key, value]) => ({ key, value })) },
  };
}

/** Grafana's tag formatting: configured keys found in the process's or the span's tags, mapped. */
function formattedTags(span: JaegerSpan, keys: Array<{ key: string; value?: string }>): string {
  return [...span.process.tags, ...span.tags]
    .flatMap((tag) => {
      const wanted = keys.find((k) => k.key === tag.key);
      return wanted ? [`${wanted.value || wanted.key}="${tag.value}"`] : [];
    })
    .join(', ');
}

export interface Link {
  from: string;
  language: 'logql' | 'promql' | 'trace-id';
  query: string;
}

/** Every link the provisioning builds, expanded for `span` (and its trace id as the exemplar's and the log line's). */
export function expandLinks(span: JaegerSpan, provisioned = datasources()): Link[] {
  const byType = Object.fromEntries(provisioned.map((ds) => [ds.type, ds]));
  const { tracesToLogsV2: logs, tracesToMetrics: metrics } = byType.jaeger.jsonData;
  const links: Link[] = [];
  const logsQuery = unescape(logs.query)
    .replaceAll('${__tags}', formattedTags(span, logs.tags))
    .replaceAll('${__span.traceId}', span.traceID);
  links.push({ from: 'trace -> logs', language: 'logql', query: logsQuery });
  for (const { name, query } of metrics.queries as Array<{ name: string; query: string }>) {
    const expanded = unescape(query).replaceAll('$__tags', formattedTags(span, metrics.tags));
    links.push({ from: `trace -> metrics (${name})`, language: 'promql', query: expanded });
  }
  // An exemplar's label value and a log line's structured-metadata value are the trace id itself;
  // Grafana opens it as a Jaeger trace-id query.
  for (const destination of byType.prometheus.jsonData.exemplarTraceIdDestinations as Provisioned[])
    links.push({ from: `exemplar ${destination.name} -> trace`, language: 'trace-id', query: span.traceID });
  for (const field of byType.loki.jsonData.derivedFields as Provisioned[])
    links.push({
      from: `log ${field.matcherRegex} -> trace`,
      language: 'trace-id',
      query: unescape(field.url).replace('${__value.raw}', span.traceID),
    });
  return links;
}
