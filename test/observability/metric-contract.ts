import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parse } from 'yaml';
import { ROOT } from './dashboards';

/**
 * The metric names a dashboard may use: the shared naming contract, whatever the services' code
 * defines (`name: '...'` in services/ and lab/), prom-client's defaults, the series Prometheus
 * writes itself, the recording rules, and what the collector's spanmetrics connector exports.
 * A name outside all of them is a typo, or a metric nobody exposes.
 */
// The contract's db_client_connection_count is exposed by the kit as db_client_connections
// (promtool reserves `_count` for histograms); that name comes in through metricsDefinedInCode().
const CONTRACT = [
  'http_server_request_duration_seconds',
  'http_server_active_requests',
  'shopnow_build_info',
  'db_client_connection_max',
  'db_client_connection_pending_requests',
  'cache_requests_total',
  'cache_backend_up',
  'messaging_client_sent_messages_total',
  'messaging_client_consumed_messages_total',
  'messaging_process_duration_seconds',
  'messaging_process_lag_seconds',
  'messaging_queue_messages',
  'outbox_backlog_messages',
  'outbox_oldest_message_age_seconds',
  'outbox_published_messages_total',
  'orders_created_total',
  'orders_checkout_duration_seconds',
  'payments_processed_total',
  'payment_provider_request_duration_seconds',
  'inventory_reservations_total',
  'notifications_sent_total',
  'notifications_duplicates_total',
  'auth_logins_total',
  'auth_registrations_total',
  'gateway_upstream_request_duration_seconds',
  'gateway_upstream_requests_total',
  'gateway_retries_total',
  'gateway_circuit_state',
  'gateway_circuit_transitions_total',
  'gateway_rate_limited_total',
  'gateway_rate_limiter_errors_total',
  'gateway_upstream_healthy',
  'lab_traffic_requests_total',
  'lab_traffic_request_duration_seconds',
  'lab_traffic_target_rate',
];

/** Written by Prometheus itself: scrape health and alert state. */
const PROMETHEUS_OWN = ['up', 'ALERTS', 'ALERTS_FOR_STATE'];

/** The collector's spanmetrics connector through its prometheus exporter (FACTS.md). */
const SPANMETRICS = ['traces_span_metrics_calls_total', 'traces_span_metrics_duration_milliseconds'];

const HISTOGRAM_SERIES = ['_bucket', '_sum', '_count'];

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter(
      (file) =>
        file.endsWith('.ts') && !file.split(path.sep).some((part) => ['node_modules', 'dist', 'test'].includes(part)),
    )
    .map((file) => path.join(dir, file));
}

/** `name: 'metric_name'` in a prom-client constructor, anywhere in the services' or lab's code. */
export function metricsDefinedInCode(): string[] {
  const names = [path.join(ROOT, 'services'), path.join(ROOT, 'lab')].flatMap((dir) =>
    sourceFiles(dir).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/\bname:\s*'([a-z_:][a-z0-9_:]*)'/g)].map((m) => m[1]),
    ),
  );
  // Every metric name has an underscore; a lone word there is some other `name:` (a pool, a cache).
  return names.filter((name) => name.includes('_'));
}

export function promClientDefaults(): string[] {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry.getMetricsAsArray().map((metric) => metric.name);
}

/** `record:` names of observability/prometheus/rules/*.yml, when that folder exists. */
export function recordingRules(): string[] {
  const dir = path.join(ROOT, 'observability/prometheus/rules');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.yml') && !file.endsWith('.test.yml'))
    .flatMap((file) => {
      const doc = parse(readFileSync(path.join(dir, file), 'utf8')) as {
        groups?: Array<{ rules?: Array<{ record?: string }> }>;
      };
      return (doc.groups ?? []).flatMap((group) =>
        (group.rules ?? []).flatMap((rule) => (rule.record ? [rule.record] : [])),
      );
    });
}

export function knownMetricNames(): Set<string> {
  const bases = [...CONTRACT, ...metricsDefinedInCode(), ...promClientDefaults(), ...SPANMETRICS];
  return new Set([
    ...bases,
    ...bases.flatMap((name) => HISTOGRAM_SERIES.map((suffix) => name + suffix)),
    ...PROMETHEUS_OWN,
    ...recordingRules(),
  ]);
}
