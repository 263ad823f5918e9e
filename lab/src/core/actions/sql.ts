import mysql from 'mysql2/promise';
import { LabError, UsageError } from '../errors';
import type { LabPaths } from '../paths';
import { labComponents } from '../runtime/stack';

export interface SqlResult {
  service: string;
  rows?: Array<Record<string, unknown>>;
  affectedRows?: number;
}

/**
 * Runs one SQL statement as a service's own MySQL user, in its own schema: database per service,
 * so what a learner can do here is exactly what that service could (CREATE INDEX on orders, yes;
 * reading another service's tables, no).
 */
export async function runSql(paths: LabPaths, service: string, statement: string): Promise<SqlResult> {
  const owners = labComponents(paths).filter((c) => c.schema);
  const owner = owners.find((c) => c.job === service);
  if (!owner?.schema)
    throw new UsageError(`"${service}" owns no schema; one of: ${[...new Set(owners.map((c) => c.job))].join(', ')}`);
  const { name, user, password } = owner.schema;
  const conn = await mysql
    .createConnection({ host: '127.0.0.1', port: 3306, user, password, database: name })
    .catch((err: Error) => {
      throw new LabError(`MySQL refused ${service}'s user (${err.message}): is the lab up?`);
    });
  try {
    const [result] = await conn.query(statement).catch((err: Error) => {
      throw new LabError(`MySQL: ${err.message}`);
    });
    return Array.isArray(result)
      ? { service, rows: result as Array<Record<string, unknown>> }
      : { service, affectedRows: (result as { affectedRows: number }).affectedRows };
  } finally {
    await conn.end();
  }
}
