/**
 * Loaded before anything else with `node --require @shopnow/kit/telemetry`, so the
 * instrumentations can patch http, express, mysql2, ioredis, amqplib and winston before a service
 * imports them. Configured only by the standard OTEL_* variables:
 *   OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES (service.version=..., service.instance.id=...),
 *   OTEL_EXPORTER_OTLP_ENDPOINT (spans and logs over OTLP/HTTP), OTEL_TRACES_EXPORTER,
 *   OTEL_LOGS_EXPORTER, OTEL_NODE_DISABLED_INSTRUMENTATIONS, OTEL_SDK_DISABLED.
 * Metrics belong to prom-client, so the SDK's own metrics exporter is off unless asked for.
 */
import { logs } from '@opentelemetry/api';
import { logs as legacyLogs } from '@opentelemetry/api-logs';
import { getNodeAutoInstrumentations } from '@opentelemetry/auto-instrumentations-node';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace';
import type { IncomingMessage, RequestOptions } from 'node:http';
import { onTelemetryShutdown } from './telemetry-handle';

const env = process.env;
const exportsOverOtlp = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
env.OTEL_METRICS_EXPORTER ??= 'none';
if (!exportsOverOtlp) env.OTEL_LOGS_EXPORTER ??= 'none';

// Scrapes and health probes every few seconds would bury the traces a learner is looking for.
const PLUMBING = /^\/(metrics|health\/(live|ready))(\?|$)/;
const isPlumbing = (path: string | undefined) => PLUMBING.test(path ?? '');

if (env.OTEL_SDK_DISABLED !== 'true') {
  const sdk = new NodeSDK({
    instrumentations: [
      getNodeAutoInstrumentations({
        '@opentelemetry/instrumentation-http': {
          ignoreIncomingRequestHook: (req: IncomingMessage) => isPlumbing(req.url),
          ignoreOutgoingRequestHook: (req: RequestOptions) => isPlumbing(req.path ?? undefined),
        },
        '@opentelemetry/instrumentation-undici': {
          ignoreRequestHook: (req: { path: string }) => isPlumbing(req.path),
        },
      }),
    ],
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
