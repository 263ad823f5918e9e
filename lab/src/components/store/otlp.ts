/**
 * OTLP export requests (protobuf decoded to the JSON mapping's shape, or JSON itself) turned
 * into the rows the store keeps. Attribute values keep their OTLP type as Jaeger's tag types
 * (string, bool, int64, float64, binary); arrays and maps become JSON strings, as Jaeger does.
 */
import type { z } from 'zod';
import { logsRequest, tracesRequest } from './otlp-schema';

export class BadInput extends Error {}

export type TagType = 'string' | 'bool' | 'int64' | 'float64' | 'binary';
export interface Tag {
  key: string;
  type: TagType;
  value: string | number | boolean;
}
export interface SpanEvent {
  timeUs: number;
  name: string;
  tags: Tag[];
}
export interface SpanRow {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  service: string;
  operation: string;
  kind: number;
  startUs: number;
  durationUs: number;
  statusCode: number;
  statusMessage: string;
  tags: Tag[];
  events: SpanEvent[];
  links: { traceId: string; spanId: string }[];
  resource: Tag[];
  scope: { name?: string; version?: string };
}
export interface LogRow {
  timeUs: number;
  service: string;
  instance: string;
  severityText: string;
  severityNumber: number;
  body: string;
  traceId: string;
  spanId: string;
  /** Record attributes as strings: what Loki keeps as structured metadata. */
  attributes: Record<string, string>;
}

// Real SDK attributes nest two or three levels; anything far deeper is hostile or broken.
const MAX_DEPTH = 16;
type Plain = string | number | boolean | null | Plain[] | { [key: string]: Plain };

/** An AnyValue as a plain JS value, refusing nesting past MAX_DEPTH. */
function plain(value: unknown, depth = 0): { type: TagType; value: Plain } {
  if (depth > MAX_DEPTH) throw new BadInput(`attribute values nest deeper than ${MAX_DEPTH} levels`);
  if (typeof value !== 'object' || value === null) return { type: 'string', value: '' };
  const v = value as Record<string, unknown>;
  if (typeof v.stringValue === 'string') return { type: 'string', value: v.stringValue };
  if (typeof v.boolValue === 'boolean') return { type: 'bool', value: v.boolValue };
  if (v.intValue !== undefined) return { type: 'int64', value: Number(v.intValue) };
  if (v.doubleValue !== undefined) return { type: 'float64', value: Number(v.doubleValue) };
  if (typeof v.bytesValue === 'string') return { type: 'binary', value: v.bytesValue };
  const nested = (v.arrayValue ?? v.kvlistValue) as { values?: unknown[] } | undefined;
  if (nested && !Array.isArray(nested.values ?? [])) throw new BadInput('arrayValue/kvlistValue.values must be a list');
  if (v.arrayValue)
    return { type: 'string', value: (nested?.values ?? []).map((item) => plain(item, depth + 1).value) };
  if (v.kvlistValue) {
    const entries = (nested?.values ?? []) as { key?: unknown; value?: unknown }[];
    return {
      type: 'string',
      value: Object.fromEntries(entries.map((e) => [String(e.key), plain(e.value, depth + 1).value])),
    };
  }
  return { type: 'string', value: '' };
}

function tags(attributes: { key: string; value?: unknown }[] = []): Tag[] {
  return attributes.map(({ key, value }) => {
    const p = plain(value);
    return {
      key,
      type: p.type,
      value: typeof p.value === 'object' ? JSON.stringify(p.value) : (p.value as Tag['value']),
    };
  });
}

const text = (value: unknown): string => {
  const p = plain(value).value;
  return typeof p === 'string' ? p : JSON.stringify(p);
};
const micros = (nanos: string | number | undefined) => Number(BigInt(nanos ?? 0) / 1000n);
const attr = (list: Tag[], key: string) => String(list.find((t) => t.key === key)?.value ?? '');

/** Ids arrive hex in JSON and base64 from protobuf; stored as lowercase hex of the right length. */
export type IdEncoding = 'hex' | 'base64';
function hexId(value: string | undefined, bytes: number, encoding: IdEncoding): string | undefined {
  if (!value) return '';
  const hex = encoding === 'hex' ? value.toLowerCase() : Buffer.from(value, 'base64').toString('hex');
  return /^[0-9a-f]+$/.test(hex) && hex.length === bytes * 2 ? hex : undefined;
}

function parse<T>(schema: z.ZodType<T>, payload: unknown): T {
  const result = schema.safeParse(payload);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new BadInput(`${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return result.data;
}

export function spansFrom(payload: unknown, encoding: IdEncoding): { rows: SpanRow[]; rejected: number } {
  const rows: SpanRow[] = [];
  let rejected = 0;
  for (const rs of parse(tracesRequest, payload).resourceSpans ?? []) {
    const resourceTags = tags(rs.resource?.attributes);
    const service = attr(resourceTags, 'service.name') || 'unknown_service';
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const traceId = hexId(s.traceId, 16, encoding);
        const spanId = hexId(s.spanId, 8, encoding);
        const parentSpanId = hexId(s.parentSpanId, 8, encoding);
        if (!traceId || !spanId || parentSpanId === undefined) {
          rejected += 1;
          continue;
        }
        const startUs = micros(s.startTimeUnixNano);
        rows.push({
          traceId,
          spanId,
          parentSpanId,
          service,
          operation: s.name ?? '',
          kind: s.kind ?? 0,
          startUs,
          durationUs: Math.max(0, micros(s.endTimeUnixNano) - startUs),
          statusCode: s.status?.code ?? 0,
          statusMessage: s.status?.message ?? '',
          tags: tags(s.attributes),
          events: (s.events ?? []).map((e) => ({
            timeUs: micros(e.timeUnixNano),
            name: e.name ?? '',
            tags: tags(e.attributes),
          })),
          links: (s.links ?? []).flatMap((l) => {
            const link = { traceId: hexId(l.traceId, 16, encoding), spanId: hexId(l.spanId, 8, encoding) };
            return link.traceId && link.spanId ? [link as { traceId: string; spanId: string }] : [];
          }),
          resource: resourceTags.filter((t) => t.key !== 'service.name'),
          scope: { name: ss.scope?.name, version: ss.scope?.version },
        });
      }
    }
  }
  return { rows, rejected };
}

export function logsFrom(payload: unknown, encoding: IdEncoding, nowUs: number): { rows: LogRow[]; rejected: number } {
  const rows: LogRow[] = [];
  let rejected = 0;
  for (const rl of parse(logsRequest, payload).resourceLogs ?? []) {
    const resourceTags = tags(rl.resource?.attributes);
    const service = attr(resourceTags, 'service.name') || 'unknown_service';
    const instance = attr(resourceTags, 'service.instance.id');
    for (const sl of rl.scopeLogs ?? []) {
      for (const r of sl.logRecords ?? []) {
        const traceId = hexId(r.traceId, 16, encoding);
        const spanId = hexId(r.spanId, 8, encoding);
        if (traceId === undefined || spanId === undefined) {
          rejected += 1;
          continue;
        }
        // Loki's order of preference: the record's time, else when it was observed, else now.
        const timeUs = micros(r.timeUnixNano) || micros(r.observedTimeUnixNano) || nowUs;
        rows.push({
          timeUs,
          service,
          instance,
          severityText: r.severityText ?? '',
          severityNumber: r.severityNumber ?? 0,
          body: r.body === undefined ? '' : text(r.body),
          traceId,
          spanId,
          attributes: Object.fromEntries(tags(r.attributes).map((t) => [t.key, String(t.value)])),
        });
      }
    }
  }
  return { rows, rejected };
}
