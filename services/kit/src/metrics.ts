import { trace } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import client from 'prom-client';
import type { Faults } from './faults/engine';
import { logMessageBytes, logMessages } from './logger';

export { client as prom };

/**
 * Every service has one registry that speaks OpenMetrics, so that histograms and counters can
 * carry exemplars (trace ids). Clients that do not ask for OpenMetrics, promtool included, get the
 * classic text format from the same registry.
 */
export type Registry = client.Registry<client.OpenMetricsContentType>;

export function createRegistry(service: string, version: string): Registry {
  const registry = new client.Registry<client.OpenMetricsContentType>();
  registry.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE);
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  // prom-client names these gauges with a `_total` suffix, which Prometheus reserves for counters.
  for (const misnamed of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ]) {
    registry.removeSingleMetric(misnamed);
  }
  const buildInfo = new client.Gauge({
    name: 'shopnow_build_info',
    help: 'Always 1; its labels name the running service and release version.',
    labelNames: ['service', 'version'],
    registers: [registry],
  });
  buildInfo.set({ service, version }, 1);
  // Counted by the logger, which main.ts creates before the registry.
  registry.registerMetric(logMessages);
  registry.registerMetric(logMessageBytes);
  return registry;
}

/** Turns an OpenMetrics exposition into the text format 0.0.4: no exemplars, no EOF, `_total` family names. */
export function toPrometheusText(openMetrics: string): string {
  const counters = new Set([...openMetrics.matchAll(/^# TYPE (\S+) counter$/gm)].map((match) => match[1]));
  const lines: string[] = [];
  for (const line of openMetrics.split('\n')) {
    if (line === '# EOF') continue;
    const meta = /^# (HELP|TYPE) (\S+)(.*)$/.exec(line);
    if (meta && counters.has(meta[2]) && !meta[2].endsWith('_total')) {
      lines.push(`# ${meta[1]} ${meta[2]}_total${meta[3]}`);
    } else if (meta && meta[1] === 'TYPE' && meta[3] === ' unknown') {
      lines.push(`# TYPE ${meta[2]} untyped`);
    } else {
      lines.push(line.startsWith('#') ? line : line.replace(/ # \{.*$/, ''));
    }
  }
  return lines.join('\n');
}

export function metricsHandler(registry: Registry): RequestHandler {
  return async (req, res) => {
    const body = await registry.metrics();
    if ((req.get('accept') ?? '').includes('application/openmetrics-text')) {
      res.type(registry.contentType).send(body);
    } else {
      res.type(client.Registry.PROMETHEUS_CONTENT_TYPE).send(toPrometheusText(body));
    }
  };
}

/** The exemplar for the current request: its trace id, when a sampled span is active. */
export function traceExemplar(): Record<string, string> | undefined {
  const ctx = trace.getActiveSpan()?.spanContext();
  if (!ctx || !(ctx.traceFlags & 1)) return undefined;
  return { trace_id: ctx.traceId, span_id: ctx.spanId };
}

// One bucket at each SLO threshold (0.1 s, 0.3 s, 0.5 s, 1 s), so that "share of requests under
// the threshold" is exact instead of interpolated.
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, 10];

/** RED metrics for the HTTP server, labelled by route template (never raw paths or ids). */
export function httpMetrics(registry: Registry, faults?: Faults): RequestHandler {
  const duration = new client.Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP requests handled by this service, by route template, method and status class (none: the client hung up before the answer).',
    labelNames: ['method', 'route', 'status_class'],
    buckets: LATENCY_BUCKETS,
    enableExemplars: true,
    registers: [registry],
  });
  const inFlight = new client.Gauge({
    name: 'http_server_active_requests',
    help: 'HTTP requests being handled right now.',
    registers: [registry],
  });
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    const exemplarLabels = traceExemplar();
    inFlight.inc();
    res.once('close', () => {
      inFlight.dec();
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const labels = {
        method: KNOWN_METHODS.has(req.method) ? req.method : 'OTHER',
        // FAULT(high-cardinality): the raw path makes one time series per id.
        route: faults?.active('high-cardinality') ? req.path : routeTemplate(req),
        // A client that hung up got no answer: counting the 200 Express starts with would call it a success.
        status_class: res.writableFinished ? `${Math.floor(res.statusCode / 100)}xx` : 'none',
      };
      duration.observe(exemplarLabels ? { labels, value: seconds, exemplarLabels } : { labels, value: seconds });
    });
    next();
  };
}

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** `/products/:id`, not `/products/42`: Express knows the template once a route has matched. */
export function routeTemplate(req: { baseUrl: string; route?: { path?: unknown } }): string {
  const path = req.route?.path;
  if (typeof path !== 'string') return 'unmatched';
  return `${req.baseUrl}${path}` || '/';
}
