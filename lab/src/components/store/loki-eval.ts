/**
 * Runs a parsed LogQL plan over the logs table. Labels follow Loki 3's OTLP ingestion: the
 * stream labels service_name and service_instance_id; severity_text, trace_id, span_id and the
 * record's attributes (dots as underscores) as structured metadata; | json adds parsed fields.
 * Equality matchers on indexed columns and |= filters go to SQL; everything is then checked
 * here, so the semantics live in one place.
 */
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type { LogQuery, MetricQuery } from './logql';
import { COLUMN, countInSql } from './loki-count';

export interface Entry {
  timeUs: number;
  line: string;
  labels: Record<string, string>;
}
interface LogRecordRow {
  time_us: number;
  service: string;
  instance: string;
  severity_text: string;
  body?: string; // left out of a count that neither filters nor parses lines
  trace_id: string;
  span_id: string;
  attributes?: string; // left out of the SELECT when no label the query reads can come from it
}

const sanitize = (key: string) => key.replace(/[^a-zA-Z0-9_]/g, '_');

export function streamLabels(row: { service: string; instance: string }): Record<string, string> {
  return row.instance
    ? { service_name: row.service, service_instance_id: row.instance }
    : { service_name: row.service };
}

function labelsOf(row: LogRecordRow): Record<string, string> {
  const labels: Record<string, string> = {};
  const attributes = row.attributes === undefined ? {} : (JSON.parse(row.attributes) as Record<string, string>);
  for (const [key, value] of Object.entries(attributes)) labels[sanitize(key)] = value;
  if (row.severity_text) labels.severity_text = row.severity_text;
  if (row.trace_id) labels.trace_id = row.trace_id;
  if (row.span_id) labels.span_id = row.span_id;
  return Object.assign(labels, streamLabels(row));
}

/** | json: top-level and nested fields joined with _, as Loki names them. */
function parseJson(line: string, labels: Record<string, string>): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    labels.__error__ = 'JSONParserErr';
    return;
  }
  const walk = (value: unknown, prefix: string) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(v, prefix ? `${prefix}_${sanitize(k)}` : sanitize(k));
    } else if (prefix) {
      const name = prefix in labels ? `${prefix}_extracted` : prefix;
      labels[name] = typeof value === 'string' ? value : JSON.stringify(value);
    }
  };
  walk(parsed, '');
}

const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
};

function evaluate(query: LogQuery, row: LogRecordRow): Entry | undefined {
  const labels = labelsOf(row);
  if (!query.selector.every((m) => m.test(labels[m.name] ?? ''))) return undefined;
  for (const s of query.stages) {
    if (s.kind === 'line' && !s.test(row.body ?? '')) return undefined;
    if (s.kind === 'json') parseJson(row.body ?? '', labels);
    if (s.kind === 'label' && !s.matcher.test(labels[s.matcher.name] ?? '')) return undefined;
    if (s.kind === 'number') {
      const value = Number(labels[s.name]);
      if (labels[s.name] === undefined || Number.isNaN(value) || !COMPARE[s.op]?.(value, s.value)) return undefined;
    }
  }
  return { timeUs: row.time_us, line: row.body ?? '', labels };
}

function pushDown(query: LogQuery): { where: string[]; args: SQLInputValue[] } {
  const where: string[] = [];
  const args: SQLInputValue[] = [];
  const matchers = [...query.selector, ...query.stages.flatMap((s) => (s.kind === 'label' ? [s.matcher] : []))];
  for (const m of matchers)
    if (m.op === '=' && COLUMN[m.name]) {
      where.push(`${COLUMN[m.name]} = ?`);
      args.push(m.value);
    }
  for (const s of query.stages)
    if (s.kind === 'line' && s.op === '|=') {
      where.push('instr(body, ?) > 0');
      args.push(s.value);
    }
  return { where, args };
}

const COLUMN_LABELS = new Set(['service_name', 'service_instance_id', 'severity_text', 'trace_id', 'span_id']);

/**
 * Whether the record attributes must be read: a metric query grouped only by column labels, that
 * filters only on them, does not need them, and parsing their JSON is most of its cost.
 */
export function needsAttributes(query: LogQuery, by: string[] | undefined): boolean {
  if (by === undefined || query.stages.some((s) => s.kind === 'json')) return true;
  const read = [
    ...query.selector.map((m) => m.name),
    ...query.stages.flatMap((s) => (s.kind === 'label' ? [s.matcher.name] : s.kind === 'number' ? [s.name] : [])),
    ...by,
  ];
  return read.some((name) => !COLUMN_LABELS.has(name));
}

/** Entries in [startUs, endUs), newest first (backward) or oldest first. */
export function* selectEntries(
  db: DatabaseSync,
  query: LogQuery,
  range: { startUs: number; endUs: number; forward: boolean },
  lean?: { attributes: boolean; body: boolean },
): Generator<Entry> {
  const { where, args } = pushDown(query);
  where.push('time_us >= ?', 'time_us < ?');
  args.push(range.startUs, range.endUs);
  const columns = ['time_us', 'service', 'instance', 'severity_text', 'trace_id', 'span_id']
    .concat(lean?.attributes === false ? [] : ['attributes'], lean?.body === false ? [] : ['body'])
    .join(', ');
  const sql = `SELECT ${columns} FROM logs WHERE ${where.join(' AND ')} ORDER BY time_us ${range.forward ? 'ASC' : 'DESC'}`;
  for (const row of db.prepare(sql).iterate(...args)) {
    const entry = evaluate(query, row as unknown as LogRecordRow);
    if (entry) yield entry;
  }
}

export interface Series {
  metric: Record<string, string>;
  points: [number, number][]; // [unix seconds, value]
}

/** count_over_time / rate at each step: entries in (t - range, t], zero points left out as Loki does. */
export function evaluateMetric(db: DatabaseSync, query: MetricQuery, steps: number[]): Series[] {
  if (steps.length === 0) return [];
  const counted = countInSql(db, query, steps);
  if (counted) return counted;
  const startUs = steps[0] - query.rangeUs;
  const endUs = steps[steps.length - 1] + 1;
  const groups = new Map<string, { metric: Record<string, string>; times: number[] }>();
  // A count needs the line only to filter or parse it.
  const lean = {
    attributes: needsAttributes(query.log, query.sum?.by),
    body: query.log.stages.some((s) => s.kind === 'line' || s.kind === 'json'),
  };
  for (const entry of selectEntries(db, query.log, { startUs, endUs, forward: true }, lean)) {
    const metric = query.sum
      ? Object.fromEntries(query.sum.by.filter((k) => entry.labels[k] !== undefined).map((k) => [k, entry.labels[k]]))
      : entry.labels;
    const key = JSON.stringify(Object.entries(metric).sort());
    const group = groups.get(key) ?? { metric, times: [] };
    group.times.push(entry.timeUs);
    groups.set(key, group);
  }
  const perSecond = query.fn === 'rate' ? query.rangeUs / 1e6 : 1;
  return [...groups.values()]
    .map(({ metric, times }) => {
      const points: [number, number][] = [];
      let [lo, hi] = [0, 0];
      for (const t of steps) {
        while (hi < times.length && times[hi] <= t) hi += 1;
        while (lo < hi && times[lo] <= t - query.rangeUs) lo += 1;
        if (hi > lo) points.push([t / 1e6, (hi - lo) / perSecond]);
      }
      return { metric, points };
    })
    .filter((series) => series.points.length > 0); // an entry exactly at t - range counts in no window
}
