/**
 * A client for Jaeger 2.20's HTTP query API, the same for the real Jaeger (Docker stack) and the
 * lab's telemetry store (lite mode): give it the base URL, get Jaeger's shapes back.
 */
export interface JaegerKeyValue {
  key: string;
  type: string;
  value: unknown;
}
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: 'CHILD_OF' | 'FOLLOWS_FROM'; traceID: string; spanID: string }[];
  startTime: number; // microseconds since the epoch
  duration: number; // microseconds
  tags: JaegerKeyValue[];
  logs: { timestamp: number; fields: JaegerKeyValue[] }[];
  processID: string;
  warnings: string[] | null;
}
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: JaegerKeyValue[] }>;
  warnings: string[] | null;
}
export interface TraceSearch {
  service: string;
  operation?: string;
  tags?: Record<string, string>;
  minDuration?: string; // Go duration, e.g. "200ms"
  maxDuration?: string;
  startUs?: number;
  endUs?: number;
  lookback?: string;
  limit?: number;
}
interface Envelope<T> {
  data: T;
  errors: { code?: number; msg: string }[] | null;
}

export class JaegerError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function jaegerClient(baseUrl: string, timeoutMs = 10_000) {
  const get = async <T>(path: string, params: Record<string, string | undefined> = {}): Promise<T | undefined> => {
    const url = new URL(path, baseUrl);
    for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value);
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (response.status === 404) return undefined;
    const body = (await response.json()) as Envelope<T>;
    if (!response.ok)
      throw new JaegerError(response.status, body.errors?.[0]?.msg ?? `HTTP ${response.status} from ${url}`);
    return body.data;
  };
  return {
    services: async () => (await get<string[]>('/api/services')) ?? [],
    operations: async (service: string) =>
      (await get<string[]>(`/api/services/${encodeURIComponent(service)}/operations`)) ?? [],
    /** One trace by id, or undefined when Jaeger does not have it. */
    trace: async (traceId: string) => (await get<JaegerTrace[]>(`/api/traces/${encodeURIComponent(traceId)}`))?.[0],
    search: async (q: TraceSearch) =>
      (await get<JaegerTrace[]>('/api/traces', {
        service: q.service,
        operation: q.operation,
        tags: q.tags ? JSON.stringify(q.tags) : undefined,
        minDuration: q.minDuration,
        maxDuration: q.maxDuration,
        start: q.startUs?.toString(),
        end: q.endUs?.toString(),
        lookback: q.lookback,
        limit: q.limit?.toString(),
      })) ?? [],
  };
}
export type JaegerClient = ReturnType<typeof jaegerClient>;

/** The service that emitted a span (Jaeger keeps it on the span's process). */
export const serviceOf = (trace: JaegerTrace, span: JaegerSpan) => trace.processes[span.processID]?.serviceName ?? '';
