import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A minimal OTLP/HTTP receiver (JSON encoding) for the end-to-end tests: the services export
 * their spans and logs to it exactly as they would to the OpenTelemetry Collector.
 */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

export interface ReceivedLog {
  service: string;
  traceId: string;
  spanId: string;
  body: unknown;
}

type KeyValue = { key: string; value: Record<string, unknown> };
const flatten = (attributes: KeyValue[] = []) =>
  Object.fromEntries(attributes.map(({ key, value }) => [key, Object.values(value)[0]]));

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly logs: ReceivedLog[] = [];
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        this.accept(req.url ?? '', JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch {
        res.writeHead(400).end();
      }
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(path: string, payload: Record<string, unknown[]>): void {
    if (path === '/v1/traces') {
      for (const rs of payload.resourceSpans as {
        resource: { attributes: KeyValue[] };
        scopeSpans: { spans: Record<string, unknown>[] }[];
      }[]) {
        const service = String(flatten(rs.resource.attributes)['service.name']);
        for (const span of rs.scopeSpans.flatMap((scope) => scope.spans)) {
          this.spans.push({
            service,
            traceId: String(span.traceId),
            spanId: String(span.spanId),
            parentSpanId: String(span.parentSpanId ?? ''),
            name: String(span.name),
            kind: Number(span.kind),
            attributes: flatten(span.attributes as KeyValue[]),
          });
        }
      }
    } else if (path === '/v1/logs') {
      for (const rl of payload.resourceLogs as {
        resource: { attributes: KeyValue[] };
        scopeLogs: { logRecords: Record<string, unknown>[] }[];
      }[]) {
        const service = String(flatten(rl.resource.attributes)['service.name']);
        for (const record of rl.scopeLogs.flatMap((scope) => scope.logRecords)) {
          this.logs.push({
            service,
            traceId: String(record.traceId ?? ''),
            spanId: String(record.spanId ?? ''),
            body: record.body,
          });
        }
      }
    }
  }
}
