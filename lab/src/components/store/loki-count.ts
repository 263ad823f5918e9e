/**
 * count_over_time / rate summed by stream-level labels, counted by SQLite instead of row by row:
 * rows are grouped into time buckets of gcd(step, range), so every window (t - range, t] is a
 * run of whole buckets, summed from prefix sums. Same answers as the row-by-row path (a test
 * compares them); used only when every matcher and every grouping label is a column.
 */
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type { MetricQuery } from './logql';
import type { Series } from './loki-eval';

/** Labels kept in a column of their own (Loki's stream labels, and the ids and severity). */
export const COLUMN: Record<string, string> = {
  service_name: 'service',
  service_instance_id: 'instance',
  severity_text: 'severity_text',
  trace_id: 'trace_id',
};

const MAX_BUCKETS = 1_000_000;
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

export function countInSql(db: DatabaseSync, query: MetricQuery, steps: number[]): Series[] | undefined {
  const { log, sum, rangeUs } = query;
  const matchers = [...log.selector, ...log.stages.flatMap((s) => (s.kind === 'label' ? [s.matcher] : []))];
  const onlyColumns = log.stages.every((s) => s.kind === 'label') && matchers.every((m) => COLUMN[m.name]);
  if (!sum || !onlyColumns || !sum.by.every((name) => COLUMN[name])) return undefined;
  const step = steps.length > 1 ? steps[1] - steps[0] : rangeUs;
  if (!Number.isInteger(step) || !Number.isInteger(rangeUs) || !Number.isInteger(steps[0])) return undefined;
  const bucket = gcd(step, rangeUs);
  const base = steps[0] - rangeUs;
  const last = steps[steps.length - 1];
  if ((last - base) / bucket > MAX_BUCKETS) return undefined;

  const where = ['time_us > ?', 'time_us <= ?'];
  const args: SQLInputValue[] = [base, last];
  for (const m of matchers) {
    // Regexes and negations: the matching values among those present, as an IN list.
    const sql = `SELECT DISTINCT ${COLUMN[m.name]} AS v FROM logs WHERE time_us > ? AND time_us <= ?`;
    const values = (db.prepare(sql).all(base, last) as { v: string }[]).map((r) => r.v).filter((v) => m.test(v));
    where.push(`${COLUMN[m.name]} IN (${values.map(() => '?').join(', ') || 'NULL'})`);
    args.push(...values);
  }
  const columns = sum.by.map((name) => COLUMN[name]);
  // Bound JS numbers arrive as REAL, so the bucket number is cast back to an integer.
  const select = [...columns, `CAST((time_us - ? + ? - 1) / ? AS INTEGER) AS b`, 'count(*) AS n'].join(', ');
  const groupBy = [...columns, 'b'].join(', ');
  const sql = `SELECT ${select} FROM logs WHERE ${where.join(' AND ')} GROUP BY ${groupBy}`;
  const groups = new Map<string, { metric: Record<string, string>; counts: Map<number, number> }>();
  for (const row of db.prepare(sql).all(base, bucket, bucket, ...args) as Record<string, string | number>[]) {
    const metric = Object.fromEntries(
      sum.by.flatMap((name, i) => (row[columns[i]] ? [[name, String(row[columns[i]])]] : [])),
    );
    const key = JSON.stringify(Object.entries(metric).sort());
    const group = groups.get(key) ?? { metric, counts: new Map() };
    group.counts.set(Number(row.b), (group.counts.get(Number(row.b)) ?? 0) + Number(row.n));
    groups.set(key, group);
  }
  const buckets = Math.ceil((last - base) / bucket);
  const perSecond = query.fn === 'rate' ? rangeUs / 1e6 : 1;
  return [...groups.values()]
    .map(({ metric, counts }) => {
      const prefix = [0];
      for (let b = 1; b <= buckets; b++) prefix.push(prefix[b - 1] + (counts.get(b) ?? 0));
      const points: [number, number][] = [];
      for (const t of steps) {
        const n = prefix[(t - base) / bucket] - prefix[(t - rangeUs - base) / bucket];
        if (n > 0) points.push([t / 1e6, n / perSecond]);
      }
      return { metric, points };
    })
    .filter((series) => series.points.length > 0);
}
