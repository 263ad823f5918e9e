import { runSql, type SqlResult } from '../../core/actions/sql';
import type { LabPaths } from '../../core/paths';
import type { Report } from '../output';

export async function sql(paths: LabPaths, service: string, statement: string): Promise<Report<SqlResult>> {
  const result = await runSql(paths, service, statement);
  const rows = result.rows ?? [];
  const head = rows.length ? Object.keys(rows[0]) : [];
  return {
    data: result,
    ok: true,
    sections: result.rows
      ? [
          head.length
            ? { table: { head, rows: rows.map((row) => head.map((key) => String(row[key] ?? 'NULL'))) } }
            : { lines: ['(no rows)'] },
        ]
      : [{ lines: [`OK, ${result.affectedRows ?? 0} row(s) affected.`] }],
  };
}
