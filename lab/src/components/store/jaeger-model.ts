/**
 * Stored spans in the JSON shapes of Jaeger 2.20's HTTP API (internal/uimodel in
 * jaegertracing/jaeger v2.20.0), with the OTLP-to-Jaeger mapping Jaeger applies: span kind,
 * status and scope become tags, events become logs, the parent a CHILD_OF reference and links
 * FOLLOWS_FROM references, resource attributes the process tags.
 */
import type { JaegerKeyValue, JaegerSpan, JaegerTrace } from '../../core/clients/jaeger';
import type { Tag } from './otlp';

export interface StoredSpan {
  trace_id: string;
  span_id: string;
  parent_span_id: string;
  service: string;
  operation: string;
  kind: number;
  start_us: number;
  duration_us: number;
  status_code: number;
  status_message: string;
  tags: string;
  events: string;
  links: string;
  resource: string;
  scope: string;
}

/** OTLP span kinds (1..5) as Jaeger's span.kind tag values. */
export const SPAN_KINDS = ['', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUS = ['', 'OK', 'ERROR'];

/** Jaeger prints a 128-bit id whose high half is zero as 16 hex digits (model.TraceID.String). */
export const jaegerTraceId = (hex: string) => (hex.startsWith('0000000000000000') ? hex.slice(16) : hex);

const kv = (key: string, type: string, value: unknown): JaegerKeyValue => ({ key, type, value });

function spanTags(s: StoredSpan): JaegerKeyValue[] {
  const scope = JSON.parse(s.scope) as { name?: string; version?: string };
  const tags: JaegerKeyValue[] = (JSON.parse(s.tags) as Tag[]).map((t) => kv(t.key, t.type, t.value));
  if (scope.name) tags.push(kv('otel.scope.name', 'string', scope.name));
  if (scope.version) tags.push(kv('otel.scope.version', 'string', scope.version));
  if (SPAN_KINDS[s.kind]) tags.push(kv('span.kind', 'string', SPAN_KINDS[s.kind]));
  if (STATUS[s.status_code]) tags.push(kv('otel.status_code', 'string', STATUS[s.status_code]));
  if (s.status_code === 2) tags.push(kv('error', 'bool', true));
  if (s.status_message) tags.push(kv('otel.status_description', 'string', s.status_message));
  return tags;
}

export function toJaegerTrace(rows: StoredSpan[]): JaegerTrace {
  const processes: JaegerTrace['processes'] = {};
  const processIds = new Map<string, string>();
  const processOf = (s: StoredSpan) => {
    const key = `${s.service}\u0000${s.resource}`;
    let id = processIds.get(key);
    if (!id) {
      id = `p${processIds.size + 1}`;
      processIds.set(key, id);
      const tags = (JSON.parse(s.resource) as Tag[]).map((t) => kv(t.key, t.type, t.value));
      processes[id] = { serviceName: s.service, tags };
    }
    return id;
  };
  const spans = rows.map((s): JaegerSpan => {
    const traceID = jaegerTraceId(s.trace_id);
    const links = JSON.parse(s.links) as { traceId: string; spanId: string }[];
    return {
      traceID,
      spanID: s.span_id,
      operationName: s.operation,
      references: [
        ...(s.parent_span_id ? [{ refType: 'CHILD_OF' as const, traceID, spanID: s.parent_span_id }] : []),
        ...links.map((l) => ({
          refType: 'FOLLOWS_FROM' as const,
          traceID: jaegerTraceId(l.traceId),
          spanID: l.spanId,
        })),
      ],
      startTime: s.start_us,
      duration: s.duration_us,
      tags: spanTags(s),
      logs: (JSON.parse(s.events) as { timeUs: number; name: string; tags: Tag[] }[]).map((e) => ({
        timestamp: e.timeUs,
        fields: [kv('event', 'string', e.name), ...e.tags.map((t) => kv(t.key, t.type, t.value))],
      })),
      processID: processOf(s),
      warnings: null,
    };
  });
  return { traceID: spans[0]?.traceID ?? '', spans, processes, warnings: null };
}
