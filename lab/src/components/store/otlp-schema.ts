/**
 * The shape of OTLP export requests as the store reads them (OTLP's JSON mapping; protobuf is
 * decoded to the same shape), checked with zod before any field is used. Attribute values are
 * left to otlp.ts, which walks them with a depth limit.
 */
import { z } from 'zod';

const keyValues = z.array(z.looseObject({ key: z.string(), value: z.unknown() })).optional();
const resource = z.looseObject({ attributes: keyValues }).optional();
const scope = z.looseObject({ name: z.string().optional(), version: z.string().optional() }).optional();
const int64 = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).optional();
const id = z.string().optional();

const span = z.looseObject({
  traceId: id,
  spanId: id,
  parentSpanId: id,
  name: z.string().optional(),
  kind: z.number().int().optional(),
  startTimeUnixNano: int64,
  endTimeUnixNano: int64,
  attributes: keyValues,
  events: z
    .array(z.looseObject({ timeUnixNano: int64, name: z.string().optional(), attributes: keyValues }))
    .optional(),
  links: z.array(z.looseObject({ traceId: id, spanId: id })).optional(),
  status: z.looseObject({ code: z.number().int().optional(), message: z.string().optional() }).optional(),
});
export const tracesRequest = z.looseObject({
  resourceSpans: z
    .array(
      z.looseObject({
        resource,
        scopeSpans: z.array(z.looseObject({ scope, spans: z.array(span).optional() })).optional(),
      }),
    )
    .optional(),
});
const logRecord = z.looseObject({
  timeUnixNano: int64,
  observedTimeUnixNano: int64,
  severityNumber: z.number().int().optional(),
  severityText: z.string().optional(),
  body: z.unknown().optional(),
  attributes: keyValues,
  traceId: id,
  spanId: id,
});
export const logsRequest = z.looseObject({
  resourceLogs: z
    .array(
      z.looseObject({
        resource,
        scopeLogs: z.array(z.looseObject({ scope, logRecords: z.array(logRecord).optional() })).optional(),
      }),
    )
    .optional(),
});
