/**
 * Sends one checkout-like trace and its log lines to a store with the real OTel SDK exporters, as
 * a service does. Run by Node itself (the exporters load their transport with a dynamic import,
 * which Jest's sandbox refuses): node lab/test/store-send.ts ENDPOINT SERVICE protobuf|json gzip|none
 * prints {traceId, rootId, childId}.
 */
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { createRequire } from 'node:module';
import path from 'node:path';

// The resources package the SDK itself resolves (it is not hoisted to the top of node_modules).
const sdkTrace = path.resolve('node_modules/@opentelemetry/sdk-trace/package.json');
const { resourceFromAttributes } = createRequire(sdkTrace)('@opentelemetry/resources') as {
  resourceFromAttributes: (attributes: Record<string, string>) => never;
};

export type Protocol = 'protobuf' | 'json';
export type Compression = CompressionAlgorithm;

/** Real OTel SDK providers exporting to the store, as a service's telemetry does. */
function sdkFor(endpoint: string, service: string, protocol: Protocol, compression: Compression) {
  const resource = resourceFromAttributes({ 'service.name': service, 'service.instance.id': `${service}-1` });
  const options = { compression, timeoutMillis: 5000 } as const;
  const traceExporter =
    protocol === 'protobuf'
      ? new ProtoTraceExporter({ url: `${endpoint}/v1/traces`, ...options })
      : new JsonTraceExporter({ url: `${endpoint}/v1/traces`, ...options });
  const logExporter =
    protocol === 'protobuf'
      ? new ProtoLogExporter({ url: `${endpoint}/v1/logs`, ...options })
      : new JsonLogExporter({ url: `${endpoint}/v1/logs`, ...options });
  const tracing = new TracerProvider({
    resource,
    spanProcessors: [new SimpleSpanProcessor({ exporter: traceExporter })],
  });
  const logging = new LoggerProvider({
    resource,
    processors: [new SimpleLogRecordProcessor({ exporter: logExporter })],
  });
  return {
    tracer: tracing.getTracer('store-test', '1.0.0'),
    logger: logging.getLogger('store-test'),
    tracing,
    logging,
  };
}

/** A checkout-like trace: a failed server span with a slow client child; one log line per span. */
async function sendCheckout(endpoint: string, service: string, protocol: Protocol, compression: Compression) {
  const sdk = sdkFor(endpoint, service, protocol, compression);
  const start = Date.now() - 1000;
  const root = sdk.tracer.startSpan('POST /checkout', {
    kind: SpanKind.SERVER,
    startTime: start,
    attributes: { 'http.response.status_code': 500, 'http.route': '/checkout', retry: true, ratio: 0.5 },
  });
  const ctx = trace.setSpan(context.active(), root);
  const child = sdk.tracer.startSpan('GET catalog', { kind: SpanKind.CLIENT, startTime: start + 10 }, ctx);
  child.addEvent('retry', { attempt: 2 }, start + 100);
  child.end(start + 310);
  root.setStatus({ code: SpanStatusCode.ERROR, message: 'payment declined' });
  root.end(start + 400);
  sdk.logger.emit({
    body: JSON.stringify({ message: 'checkout failed', status: 500, order: { id: 'o-42' } }),
    severityText: 'error',
    attributes: { outcome: 'declined' },
    context: ctx,
  });
  sdk.logger.emit({ body: 'checkout started', severityText: 'info', context: ctx });
  await Promise.all([sdk.tracing.forceFlush(), sdk.logging.forceFlush()]);
  await Promise.all([sdk.tracing.shutdown(), sdk.logging.shutdown()]);
  return {
    traceId: root.spanContext().traceId,
    rootId: root.spanContext().spanId,
    childId: child.spanContext().spanId,
  };
}

const [endpoint, service, protocol, compression] = process.argv.slice(2);
sendCheckout(endpoint, service, protocol as Protocol, compression as Compression).then(
  (ids) => console.log(JSON.stringify(ids)),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
