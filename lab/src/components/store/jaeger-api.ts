/**
 * Jaeger 2.20's HTTP query API (cmd/jaeger/internal/extension/jaegerquery/internal/http_handler.go
 * and query_parser.go at v2.20.0): /api/services, /api/services/{service}/operations,
 * /api/traces (search) and /api/traces/{id}, with its envelope {data, total, limit, offset, errors}
 * and its parameter names, defaults and error messages.
 */
import express, { type Request, type Response } from 'express';
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { SPAN_KINDS, toJaegerTrace, type StoredSpan } from './jaeger-model';
import { parseGoDuration } from './durations';

const DEFAULT_LIMIT = 100;

class ParamError extends Error {}

const envelope = (data: unknown, total = 0, errors: { code: number; msg: string }[] | null = null) => ({
  data,
  total,
  limit: 0,
  offset: 0,
  errors,
});

function param(req: Request, name: string): string {
  const value = req.query[name];
  return typeof value === 'string' ? value : Array.isArray(value) ? String(value[0]) : '';
}

function integer(req: Request, name: string): number | undefined {
  const raw = param(req, name);
  if (raw === '') return undefined;
  if (!/^-?\d+$/.test(raw))
    throw new ParamError(`unable to parse param '${name}': strconv.ParseInt: parsing "${raw}": invalid syntax`);
  return Number(raw);
}

function duration(req: Request, name: string): number | undefined {
  const raw = param(req, name);
  if (raw === '') return undefined;
  const us = parseGoDuration(raw);
  if (us === undefined) throw new ParamError(`unable to parse param '${name}': time: invalid duration "${raw}"`);
  return us;
}

/** tag=key:value (repeatable) and tags={"key":"value"}, as Jaeger's parseTags. */
function tagsOf(req: Request): [string, string][] {
  const tags: [string, string][] = [];
  const simple = req.query.tag;
  for (const tag of (Array.isArray(simple) ? simple : simple ? [simple] : []).map(String)) {
    const [key, ...rest] = tag.split(':');
    if (rest.length === 0) throw new ParamError(`malformed 'tag' parameter, expecting key:value, received: ${tag}`);
    tags.push([key, rest.join(':')]);
  }
  const json = param(req, 'tags');
  if (json) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (error) {
      throw new ParamError(`malformed 'tags' parameter, cannot unmarshal JSON: ${(error as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Object.values(parsed).some((v) => typeof v !== 'string'))
      throw new ParamError(`malformed 'tags' parameter, cannot unmarshal JSON: expected an object of strings`);
    tags.push(...Object.entries(parsed as Record<string, string>));
  }
  return tags;
}

// A tag matches the span's own tags, the tags Jaeger derives (error, span.kind, otel.status_code)
// or its process (resource) tags; bools compare as "true"/"false" like Jaeger's string form.
const TAG_MATCH = (column: string) =>
  `EXISTS (SELECT 1 FROM json_each(${column}) j WHERE j.value->>'key' = ? AND
     (CASE json_type(j.value, '$.value') WHEN 'true' THEN 'true' WHEN 'false' THEN 'false'
      ELSE CAST(j.value->>'value' AS TEXT) END) = ?)`;

function tagCondition([key, value]: [string, string]): { sql: string; args: SQLInputValue[] } {
  if (key === 'error') return { sql: value === 'true' ? 'status_code = 2' : 'status_code != 2', args: [] };
  if (key === 'span.kind') return { sql: 'kind = ?', args: [Math.max(0, SPAN_KINDS.indexOf(value))] };
  if (key === 'otel.status_code') return { sql: 'status_code = ?', args: [['', 'OK', 'ERROR'].indexOf(value)] };
  return { sql: `(${TAG_MATCH('tags')} OR ${TAG_MATCH('resource')})`, args: [key, value, key, value] };
}

export function searchTraceIds(db: DatabaseSync, req: Request, nowUs: number): string[] {
  const service = param(req, 'service');
  if (!service) throw new ParamError("parameter 'service' is required");
  const end = integer(req, 'end') ?? nowUs;
  const lookback = duration(req, 'lookback');
  const start = integer(req, 'start') ?? (lookback !== undefined ? end - lookback : 0);
  const limit = integer(req, 'limit') ?? DEFAULT_LIMIT;
  const minDuration = duration(req, 'minDuration');
  const maxDuration = duration(req, 'maxDuration');
  if (minDuration && maxDuration && maxDuration < minDuration)
    throw new ParamError("'maxDuration' should be greater than 'minDuration'");
  const where = ['service = ?', 'start_us >= ?', 'start_us <= ?'];
  const args: SQLInputValue[] = [service, start, end];
  const operation = param(req, 'operation');
  const conditions = [
    ...(operation ? [{ sql: 'operation = ?', args: [operation] }] : []),
    ...(minDuration ? [{ sql: 'duration_us >= ?', args: [minDuration] }] : []),
    ...(maxDuration ? [{ sql: 'duration_us <= ?', args: [maxDuration] }] : []),
    ...tagsOf(req).map(tagCondition),
  ];
  for (const condition of conditions) {
    where.push(condition.sql);
    args.push(...condition.args);
  }
  const sql = `SELECT trace_id, max(start_us) AS newest FROM spans WHERE ${where.join(' AND ')}
    GROUP BY trace_id ORDER BY newest DESC LIMIT ?`;
  return (db.prepare(sql).all(...args, limit) as { trace_id: string }[]).map((r) => r.trace_id);
}

export function traceSpans(db: DatabaseSync, traceId: string): StoredSpan[] {
  const hex = traceId.toLowerCase().padStart(32, '0');
  return db.prepare('SELECT * FROM spans WHERE trace_id = ? ORDER BY start_us').all(hex) as unknown as StoredSpan[];
}

export function jaegerRouter(db: DatabaseSync, observe: (endpoint: string, seconds: number) => void): express.Router {
  const router = express.Router();
  const timed = (endpoint: string, handler: (req: Request, res: Response) => void) => (req: Request, res: Response) => {
    const started = performance.now();
    try {
      handler(req, res);
    } catch (error) {
      if (!(error instanceof ParamError)) throw error;
      res.status(400).json(envelope(null, 0, [{ code: 400, msg: error.message }]));
    } finally {
      observe(endpoint, (performance.now() - started) / 1000);
    }
  };
  router.get(
    '/api/services',
    timed('services', (_req, res) => {
      const services = (
        db.prepare('SELECT DISTINCT service FROM spans ORDER BY service').all() as { service: string }[]
      ).map((r) => r.service);
      res.json(envelope(services, services.length));
    }),
  );
  router.get(
    '/api/services/:service/operations',
    timed('operations', (req, res) => {
      const sql = 'SELECT DISTINCT operation FROM spans WHERE service = ? ORDER BY operation';
      const names = (db.prepare(sql).all(String(req.params.service)) as { operation: string }[]).map(
        (r) => r.operation,
      );
      res.json(envelope(names, names.length));
    }),
  );
  router.get(
    '/api/traces',
    timed('search', (req, res) => {
      const ids = searchTraceIds(db, req, Date.now() * 1000);
      res.json(envelope(ids.map((id) => toJaegerTrace(traceSpans(db, id)))));
    }),
  );
  router.get(
    '/api/traces/:id',
    timed('trace', (req, res) => {
      const id = String(req.params.id);
      if (!/^[0-9a-fA-F]{1,32}$/.test(id))
        throw new ParamError(`unable to parse param 'traceID': strconv.ParseUint: parsing "${id}": invalid syntax`);
      const spans = traceSpans(db, id);
      if (spans.length === 0)
        return void res.status(404).json(envelope(null, 0, [{ code: 404, msg: 'trace not found' }]));
      res.json(envelope([toJaegerTrace(spans)]));
    }),
  );
  return router;
}
