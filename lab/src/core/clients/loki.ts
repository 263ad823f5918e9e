/**
 * A client for Loki's HTTP query API, the same for the real Loki (Docker stack) and the lab's
 * telemetry store (lite mode): give it the base URL, get Loki's shapes back.
 */
export interface LokiStream {
  stream: Record<string, string>;
  values: [string, string][]; // [unix nanoseconds, line]
}
export interface LokiSeries {
  metric: Record<string, string>;
  values: [number, string][]; // [unix seconds, value]
}
export interface LogLine {
  timeNs: bigint;
  line: string;
  labels: Record<string, string>;
}
export interface RangeQuery {
  query: string;
  startNs?: bigint;
  endNs?: bigint;
  limit?: number;
  direction?: 'forward' | 'backward';
  step?: string;
}
type QueryResponse =
  | { status: string; data: { resultType: 'streams'; result: LokiStream[] } }
  | { status: string; data: { resultType: 'matrix'; result: LokiSeries[] } };

export class LokiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function lokiClient(baseUrl: string, timeoutMs = 10_000) {
  const get = async <T>(path: string, params: Record<string, string | undefined>): Promise<T> => {
    const url = new URL(path, baseUrl);
    for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value);
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    // Loki answers errors as plain text (http.Error).
    if (!response.ok) throw new LokiError(response.status, (await response.text()).trim() || `HTTP ${response.status}`);
    return (await response.json()) as T;
  };
  const range = (q: RangeQuery) =>
    get<QueryResponse>('/loki/api/v1/query_range', {
      query: q.query,
      start: q.startNs?.toString(),
      end: q.endNs?.toString(),
      limit: q.limit?.toString(),
      direction: q.direction,
      step: q.step,
    });
  return {
    /** Log lines of a log query, merged across streams, in the requested direction. */
    async lines(q: RangeQuery): Promise<LogLine[]> {
      const { data } = await range(q);
      if (data.resultType !== 'streams') throw new LokiError(400, `${q.query} is a metric query, not a log query`);
      const lines = data.result.flatMap((s) =>
        s.values.map(([ts, line]) => ({ timeNs: BigInt(ts), line, labels: s.stream })),
      );
      const sign = q.direction === 'forward' ? 1 : -1;
      return lines.sort((a, b) => sign * (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : 0));
    },
    async series(q: RangeQuery): Promise<LokiSeries[]> {
      const { data } = await range(q);
      if (data.resultType !== 'matrix') throw new LokiError(400, `${q.query} is a log query, not a metric query`);
      return data.result;
    },
    labels: async () => (await get<{ data?: string[] }>('/loki/api/v1/labels', {})).data ?? [],
    labelValues: async (name: string) =>
      (await get<{ data?: string[] }>(`/loki/api/v1/label/${encodeURIComponent(name)}/values`, {})).data ?? [],
  };
}
export type LokiClient = ReturnType<typeof lokiClient>;

/** A LogQL string literal: quotes and backslashes escaped, so user input cannot change the query. */
export const logqlString = (value: string) => JSON.stringify(value);
