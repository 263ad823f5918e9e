import { readLogs } from '../core/actions/logs';
import { request } from '../core/http';
import type { LabPaths } from '../core/paths';

/**
 * What the grader sees of one trace, wherever it came from: the services it crossed, and whether
 * their records mention something (an order id). Lite mode reads the services' trace-correlated
 * JSON logs; the full stack asks Jaeger. Evidence checks are written once, against this.
 */
export interface TraceView {
  traceId: string;
  source: 'logs' | 'jaeger';
  services: string[];
  /** Whether a record of `service` (of any service when omitted) mentions `text`. */
  mentions(text: string, service?: string): boolean;
}

export interface TraceLookup {
  where: string; // for messages: "the logs in .lab/logs/"
  find(traceId: string): Promise<TraceView | undefined>;
}

export const TRACE_ID = /^[0-9a-f]{32}$/;

/** The view of one trace from its records (undefined when there are none). */
export function traceView(
  traceId: string,
  source: TraceView['source'],
  records: Array<{ service: string; text: string }>,
): TraceView | undefined {
  if (!records.length) return undefined;
  return {
    traceId,
    source,
    services: [...new Set(records.map((r) => r.service))].sort(),
    mentions: (text: string, service?: string) =>
      records.some((r) => (!service || r.service === service) && r.text.includes(text)),
  };
}

/** Lite mode: every line, in every service's log, whose trace_id is this one. */
export function logTraceLookup(paths: LabPaths, services: string[]): TraceLookup {
  return {
    where: `the services' logs in ${paths.logs}`,
    async find(traceId) {
      const records = services.flatMap((service) =>
        readLogs(paths, service, { trace: traceId, tail: Number.MAX_SAFE_INTEGER }).lines.map((line) => ({
          service,
          text: line.text,
        })),
      );
      return traceView(traceId, 'logs', records);
    },
  };
}

interface JaegerTrace {
  spans: Array<{ processID: string; operationName: string; tags?: unknown[]; logs?: unknown[] }>;
  processes: Record<string, { serviceName: string }>;
}

/** The full stack: Jaeger 2.20's `GET /api/traces/{id}` (kept in later versions too). */
export function jaegerTraceLookup(jaegerUrl: string): TraceLookup {
  return {
    where: `Jaeger at ${jaegerUrl}`,
    async find(traceId) {
      const res = await request(`${jaegerUrl}/api/traces/${traceId}`, {}, 10_000);
      if (res.status === 404) return undefined;
      if (!res.ok) throw new Error(`Jaeger answered ${res.status} for trace ${traceId}`);
      const body = (await res.json()) as { data?: JaegerTrace[] };
      const records = (body.data ?? []).flatMap((trace) =>
        trace.spans.map((span) => ({
          service: trace.processes[span.processID]?.serviceName ?? '?',
          text: JSON.stringify([span.operationName, span.tags, span.logs]),
        })),
      );
      return traceView(traceId, 'jaeger', records);
    },
  };
}
