/**
 * The store's database. SQLite through Node 24's built-in node:sqlite: no native build (the
 * better-sqlite3 addon would need Node 24 headers, which cannot be downloaded here) and no
 * extra ~40 MB binary as DuckDB's prebuilt package brings; the work is many small appends and
 * indexed point/range lookups, which is what a row store in WAL mode does well, and the memory
 * budget (<= 80 MB PSS) rules out a columnar engine's buffers. Writes are queued in memory and
 * flushed in one transaction at a time, so an export request never waits on the disk.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { LogRow, SpanRow } from './otlp';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS spans (
  trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_span_id TEXT NOT NULL,
  service TEXT NOT NULL, operation TEXT NOT NULL, kind INTEGER NOT NULL,
  start_us INTEGER NOT NULL, duration_us INTEGER NOT NULL,
  status_code INTEGER NOT NULL, status_message TEXT NOT NULL,
  tags TEXT NOT NULL, events TEXT NOT NULL, links TEXT NOT NULL, resource TEXT NOT NULL, scope TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS spans_trace ON spans (trace_id);
CREATE INDEX IF NOT EXISTS spans_service_start ON spans (service, start_us);
CREATE INDEX IF NOT EXISTS spans_service_operation ON spans (service, operation);
CREATE INDEX IF NOT EXISTS spans_start ON spans (start_us);
CREATE TABLE IF NOT EXISTS logs (
  time_us INTEGER NOT NULL, service TEXT NOT NULL, instance TEXT NOT NULL,
  severity_text TEXT NOT NULL, severity_number INTEGER NOT NULL, body TEXT NOT NULL,
  trace_id TEXT NOT NULL, span_id TEXT NOT NULL, attributes TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS logs_service_time ON logs (service, time_us);
CREATE INDEX IF NOT EXISTS logs_time ON logs (time_us);
CREATE INDEX IF NOT EXISTS logs_trace ON logs (trace_id) WHERE trace_id != '';
`;

export type Table = 'spans' | 'logs';

export function openDatabase(file: string): DatabaseSync {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new DatabaseSync(file);
  // auto_vacuum must be chosen before the first table exists; it lets evictions give pages back.
  db.exec('PRAGMA auto_vacuum = INCREMENTAL');
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec(SCHEMA);
  return db;
}

export function createWriter(db: DatabaseSync, options: { flushMs: number; flushRows: number; maxQueued: number }) {
  const insertSpan = db.prepare('INSERT INTO spans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const insertLog = db.prepare('INSERT INTO logs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  let spans: SpanRow[] = [];
  let logs: LogRow[] = [];
  let scheduled: NodeJS.Timeout | undefined;

  const flush = () => {
    clearTimeout(scheduled);
    scheduled = undefined;
    if (spans.length === 0 && logs.length === 0) return;
    const [s, l] = [spans, logs];
    [spans, logs] = [[], []];
    db.exec('BEGIN');
    try {
      for (const r of s)
        insertSpan.run(
          r.traceId,
          r.spanId,
          r.parentSpanId,
          r.service,
          r.operation,
          r.kind,
          r.startUs,
          r.durationUs,
          r.statusCode,
          r.statusMessage,
          JSON.stringify(r.tags),
          JSON.stringify(r.events),
          JSON.stringify(r.links),
          JSON.stringify(r.resource),
          JSON.stringify(r.scope),
        );
      for (const r of l)
        insertLog.run(
          r.timeUs,
          r.service,
          r.instance,
          r.severityText,
          r.severityNumber,
          r.body,
          r.traceId,
          r.spanId,
          JSON.stringify(r.attributes),
        );
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  };

  const schedule = () => {
    if (spans.length + logs.length >= options.flushRows) setImmediate(flush);
    else scheduled ??= setTimeout(flush, options.flushMs);
  };

  return {
    /** False when the queue is full (the disk cannot keep up): the caller answers 503, retryable. */
    add(rows: { spans?: SpanRow[]; logs?: LogRow[] }): boolean {
      if (spans.length + logs.length >= options.maxQueued) return false;
      if (rows.spans) spans.push(...rows.spans);
      if (rows.logs) logs.push(...rows.logs);
      schedule();
      return true;
    },
    flush,
  };
}

/** Drops what is older than the age limit, then the oldest rows until the used size fits. */
export function enforceBounds(
  db: DatabaseSync,
  limits: { maxAgeUs: number; maxBytes: number; nowUs: number },
): Record<`${Table}_${'age' | 'size'}`, number> {
  const evicted = { spans_age: 0, logs_age: 0, spans_size: 0, logs_size: 0 };
  const cutoff = limits.nowUs - limits.maxAgeUs;
  evicted.spans_age = Number(db.prepare('DELETE FROM spans WHERE start_us < ?').run(cutoff).changes);
  evicted.logs_age = Number(db.prepare('DELETE FROM logs WHERE time_us < ?').run(cutoff).changes);
  for (let round = 0; round < 20 && usedBytes(db) > limits.maxBytes; round += 1) {
    // A tenth of each table per round, oldest first, keeps both signals' recent past.
    for (const [table, column] of [
      ['spans', 'start_us'],
      ['logs', 'time_us'],
    ] as const) {
      const { n } = db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number };
      const drop = Math.max(1, Math.ceil(n / 10));
      const sql = `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} ORDER BY ${column} LIMIT ?)`;
      evicted[`${table}_size`] += Number(db.prepare(sql).run(drop).changes);
    }
  }
  if (Object.values(evicted).some(Boolean)) db.exec('PRAGMA incremental_vacuum');
  return evicted;
}

export function usedBytes(db: DatabaseSync): number {
  const pragma = (name: string) => Number(Object.values(db.prepare(`PRAGMA ${name}`).get() ?? {})[0]);
  return (pragma('page_count') - pragma('freelist_count')) * pragma('page_size');
}

export function rowCount(db: DatabaseSync, table: Table): number {
  return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
}
