/**
 * Loaded before anything else with `node --require @shopnow/kit/telemetry`, so the
 * instrumentations can patch http, express, mysql2, ioredis, amqplib and winston before a service
 * imports them. Only those (and undici, behind fetch) are loaded: the auto-instrumentations
 * package requires all of its ~40 at start, ~15 MiB of resident memory per process for libraries
 * ShopNow does not use (docs/benchmarks.md). Configured by the standard OTEL_* variables:
 *   OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES (service.version=..., service.instance.id=...),
 *   OTEL_EXPORTER_OTLP_ENDPOINT (spans and logs over OTLP/HTTP), OTEL_TRACES_EXPORTER,
 *   OTEL_LOGS_EXPORTER, OTEL_NODE_DISABLED_INSTRUMENTATIONS, OTEL_SDK_DISABLED.
 * Metrics belong to prom-client, so the SDK's own metrics exporter is off unless asked for.
 * METRICS_ENABLED=false also drops the RED middleware: with OTEL_SDK_DISABLED=true that is a
 * service without instrumentation, the baseline `make bench` compares against.
 */
import { logs } from '@opentelemetry/api';
import { logs as legacyLogs } from '@opentelemetry/api-logs';
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { MySQL2Instrumentation } from '@opentelemetry/instrumentation-mysql2';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { WinstonInstrumentation } from '@opentelemetry/instrumentation-winston';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace';
import type { IncomingMessage, RequestOptions } from 'node:http';
import { onTelemetryShutdown, setRedMetrics } from './telemetry-handle';

const env = process.env;
const exportsOverOtlp = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
env.OTEL_METRICS_EXPORTER ??= 'none';
if (!exportsOverOtlp) env.OTEL_LOGS_EXPORTER ??= 'none';
setRedMetrics(env.METRICS_ENABLED !== 'false');

// Scrapes and health probes every few seconds would bury the traces a learner is looking for; the
// lab's fault control plane is not part of the shop (a span naming the fault would be an answer).
const PLUMBING = /^\/(metrics|health\/(live|ready)|admin\/faults(\/[^/?]+)?)(\?|$)/;
const isPlumbing = (path: string | undefined) => PLUMBING.test(path ?? '');

// The names OTEL_NODE_DISABLED_INSTRUMENTATIONS takes, as for the auto-instrumentations package.
const INSTRUMENTATIONS = {
  http: () =>
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req: IncomingMessage) => isPlumbing(req.url),
      ignoreOutgoingRequestHook: (req: RequestOptions) => isPlumbing(req.path ?? undefined),
    }),
  undici: () => new UndiciInstrumentation({ ignoreRequestHook: (req) => isPlumbing(req.path) }),
  // No span per Express layer: one per middleware (body parser, metrics, access log...) was the
  // largest single cost of tracing, and the route handler's span only repeated the server span
  // (same route, same duration) at ~10% of a cached read's CPU (docs/benchmarks.md). The server span
  // still takes its name and http.route from Express; mounted routers (the admin APIs) keep theirs.
  express: () =>
    new ExpressInstrumentation({
      ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.REQUEST_HANDLER],
    }),
  mysql2: () => new MySQL2Instrumentation(),
  ioredis: () => new IORedisInstrumentation(),
  amqplib: () => new AmqplibInstrumentation(),
  winston: () => new WinstonInstrumentation(),
};
const disabled = new Set((env.OTEL_NODE_DISABLED_INSTRUMENTATIONS ?? '').split(',').map((name) => name.trim()));

if (env.OTEL_SDK_DISABLED !== 'true') {
  const sdk = new NodeSDK({
    instrumentations: Object.entries(INSTRUMENTATIONS)
      .filter(([name]) => !disabled.has(name))
      .map(([, create]) => create()),
    // Without an exporter the SDK would install no tracer at all, and log lines would lose their
    // trace_id. Spans are still made (and correlate logs); they are just not sent anywhere.
    spanProcessors: exportsOverOtlp || env.OTEL_TRACES_EXPORTER ? undefined : [new NoopSpanProcessor()],
  });
  sdk.start();
  // The winston transport (0.34, the newest) still emits through the 0.2xx `@opentelemetry/api-logs`
  // global, while this SDK line registers its logger provider on `@opentelemetry/api`. Hand the
  // same provider to the old global too, or log records would never leave the process.
  legacyLogs.setGlobalLoggerProvider(
    logs.getLoggerProvider() as unknown as Parameters<typeof legacyLogs.setGlobalLoggerProvider>[0],
  );
  onTelemetryShutdown(() => sdk.shutdown());
}
