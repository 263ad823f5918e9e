/**
 * What `lab traces` shows, as data (nothing here prints): traces found through the Jaeger API
 * (the real Jaeger or the lab's telemetry store, one code path), each with its duration and span
 * count, and one trace as a span tree with durations.
 */
import {
  jaegerClient,
  JaegerError,
  serviceOf,
  type JaegerClient,
  type JaegerSpan,
  type JaegerTrace,
} from '../clients/jaeger';
import { LabError, UsageError } from '../errors';
import { currentMode } from '../mode';
import type { LabPaths } from '../paths';
import { tracesEndpoint } from '../runtime/stack';

export interface TraceSummary {
  traceId: string;
  service: string; // the root span's service
  operation: string;
  startUs: number;
  durationMs: number;
  spans: number;
  errors: number;
  services: string[];
}
export interface SpanLine {
  depth: number;
  spanId: string;
  service: string;
  operation: string;
  offsetMs: number; // from the trace's first span
  durationMs: number;
  error: boolean;
  orphan: boolean; // its parent is not in the trace (not yet exported, or context was lost)
}

const isError = (span: JaegerSpan) => span.tags.some((t) => t.key === 'error' && t.value === true);
const parentOf = (span: JaegerSpan) => span.references.find((r) => r.refType === 'CHILD_OF')?.spanID;

export function summarize(trace: JaegerTrace): TraceSummary {
  const ids = new Set(trace.spans.map((s) => s.spanID));
  const root = trace.spans.find((s) => !parentOf(s) || !ids.has(parentOf(s) as string)) ?? trace.spans[0];
  const start = Math.min(...trace.spans.map((s) => s.startTime));
  const end = Math.max(...trace.spans.map((s) => s.startTime + s.duration));
  return {
    traceId: trace.traceID,
    service: root ? serviceOf(trace, root) : '',
    operation: root?.operationName ?? '',
    startUs: start,
    durationMs: (end - start) / 1000,
    spans: trace.spans.length,
    errors: trace.spans.filter(isError).length,
    services: [...new Set(trace.spans.map((s) => serviceOf(trace, s)))].sort(),
  };
}

/** Depth first, children in start order; spans whose parent is missing start a branch of their own. */
export function spanTree(trace: JaegerTrace): SpanLine[] {
  const ids = new Set(trace.spans.map((s) => s.spanID));
  const children = new Map<string, JaegerSpan[]>();
  const roots: JaegerSpan[] = [];
  for (const span of [...trace.spans].sort((a, b) => a.startTime - b.startTime)) {
    const parent = parentOf(span);
    if (parent && ids.has(parent)) children.set(parent, [...(children.get(parent) ?? []), span]);
    else roots.push(span);
  }
  const start = Math.min(...trace.spans.map((s) => s.startTime));
  const lines: SpanLine[] = [];
  const visit = (span: JaegerSpan, depth: number) => {
    lines.push({
      depth,
      spanId: span.spanID,
      service: serviceOf(trace, span),
      operation: span.operationName,
      offsetMs: (span.startTime - start) / 1000,
      durationMs: span.duration / 1000,
      error: isError(span),
      orphan: depth === 0 && Boolean(parentOf(span)),
    });
    for (const child of children.get(span.spanID) ?? []) visit(child, depth + 1);
  };
  for (const root of roots) visit(root, 0);
  return lines;
}

export interface TraceFilter {
  service?: string; // every service when left out
  error?: boolean;
  minDuration?: string; // Go duration: "200ms"
  limit?: number;
  lookback?: string; // "1h"
}

/** Newest first. Jaeger searches one service at a time, so without one every service is asked. */
export async function findTraces(jaeger: JaegerClient, filter: TraceFilter): Promise<TraceSummary[]> {
  const limit = filter.limit ?? 20;
  const services = filter.service ? [filter.service] : await jaeger.services();
  const found = await Promise.all(
    services.map((service) =>
      jaeger.search({
        service,
        tags: filter.error ? { error: 'true' } : undefined,
        minDuration: filter.minDuration,
        lookback: filter.lookback ?? '1h',
        limit,
      }),
    ),
  );
  const byId = new Map(found.flat().map((t) => [t.traceID, t]));
  return [...byId.values()]
    .map(summarize)
    .sort((a, b) => b.startUs - a.startUs)
    .slice(0, limit);
}

/** What `lab traces` asks: Jaeger in the full stack, the lab's telemetry store in lite mode. */
export async function labTraces(
  paths: LabPaths,
  filter: TraceFilter,
): Promise<{ source: string; traces: TraceSummary[] }> {
  const source = tracesEndpoint(currentMode(paths), paths).url;
  return { source, traces: await asked(source, () => findTraces(jaegerClient(source), filter)) };
}

/** One trace of the running lab, summarised and as its span tree. */
export async function labTrace(
  paths: LabPaths,
  traceId: string,
): Promise<{ source: string; trace: TraceSummary; spans: SpanLine[] }> {
  if (!/^[0-9a-f]{1,32}$/i.test(traceId))
    throw new UsageError(`a trace id is 32 hexadecimal digits (as in the logs' trace_id), not "${traceId}"`);
  const source = tracesEndpoint(currentMode(paths), paths).url;
  const trace = await asked(source, () => jaegerClient(source).trace(traceId.toLowerCase()));
  if (!trace) throw new LabError(`no trace ${traceId} at ${source} (too old, not exported yet, or mistyped)`);
  return { source, trace: summarize(trace), spans: spanTree(trace) };
}

/** The API's own refusal (a bad duration) or silence, said as what to do. */
async function asked<T>(source: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof JaegerError) throw new LabError(`${source} refused the query: ${err.message}`);
    throw new LabError(`no trace API answers at ${source}: is the lab up? (lab status) [${(err as Error).message}]`);
  }
}
