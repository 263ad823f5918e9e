import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import mysql, { type Pool, type PoolConnection } from 'mysql2/promise';
import { z } from 'zod';
import { serviceUrl } from './config';
import type { Faults } from './faults/engine';
import type { Logger } from './logger';
import { prom, type Registry } from './metrics';

export type { Pool, PoolConnection };

/** What every service with a schema reads: its own database (one user, one schema) and its pool's size. */
export const mysqlEnv = {
  MYSQL_URL: serviceUrl('mysql'),
  // The connections one instance may open; every instance's pool adds up at MySQL's max_connections.
  MYSQL_POOL_SIZE: z.coerce.number().int().positive().default(10),
};

/** mysql2 keeps its pool counters private; these are the fields its own getConnection() uses. */
interface CorePool {
  config: { connectionLimit: number };
  _allConnections: { length: number };
  _freeConnections: { length: number };
  _connectionQueue: { length: number };
}

export const corePool = (pool: Pool) => (pool as unknown as { pool: CorePool }).pool;

/**
 * A connection pool for one schema and one MySQL user (database per service), with its
 * saturation exported: connections used and idle, the limit, and requests waiting for one.
 */
export function createPool(
  url: string,
  options: { name: string; connectionLimit: number; registry: Registry; faults?: Faults },
): Pool {
  const pool = mysql.createPool({
    uri: url,
    connectionLimit: options.connectionLimit,
    waitForConnections: true,
    queueLimit: 0,
    enableKeepAlive: true,
    connectTimeout: 5_000,
    decimalNumbers: true,
  });
  const core = corePool(pool);
  // FAULT(pool-shrink): a smaller limit makes queries queue for a connection (pending requests rise).
  options.faults?.onChange((name, fault) => {
    if (name === 'pool-shrink') core.config.connectionLimit = fault ? Number(fault.size) : options.connectionLimit;
  });
  const pools = { pool: options.name };
  // Not `..._count`: promtool reserves that suffix for histograms and summaries.
  new prom.Gauge({
    name: 'db_client_connections',
    help: 'Connections in the MySQL pool, by state (used, idle).',
    labelNames: ['pool', 'state'],
    registers: [options.registry],
    collect() {
      const idle = core._freeConnections.length;
      this.set({ ...pools, state: 'idle' }, idle);
      this.set({ ...pools, state: 'used' }, core._allConnections.length - idle);
    },
  });
  new prom.Gauge({
    name: 'db_client_connection_max',
    help: 'The most connections the MySQL pool may open.',
    labelNames: ['pool'],
    registers: [options.registry],
    collect() {
      this.set(pools, core.config.connectionLimit);
    },
  });
  new prom.Gauge({
    name: 'db_client_connection_pending_requests',
    help: 'Queries waiting for a free connection from the MySQL pool.',
    labelNames: ['pool'],
    registers: [options.registry],
    collect() {
      this.set(pools, core._connectionQueue.length);
    },
  });
  return pool;
}

/** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
export async function withTransaction<T>(pool: Pool, work: (conn: PoolConnection) => Promise<T>): Promise<T> {
  const conn = await pool.getConnection();
  try {
    await conn.beginTransaction();
    const result = await work(conn);
    await conn.commit();
    return result;
  } catch (err) {
    await conn.rollback().catch(() => undefined);
    throw err;
  } finally {
    conn.release();
  }
}

/**
 * A service's database at start: its migrations (the `migrations/` folder beside its dist/) applied,
 * then its pool opened at MYSQL_POOL_SIZE connections.
 */
export async function openDatabase(
  config: { MYSQL_URL: string; MYSQL_POOL_SIZE: number },
  options: { name: string; migrations: string; registry: Registry; faults?: Faults; log: Logger },
): Promise<Pool> {
  const { name, migrations, registry, faults, log } = options;
  await migrate(config.MYSQL_URL, migrations, log);
  return createPool(config.MYSQL_URL, { name, connectionLimit: config.MYSQL_POOL_SIZE, registry, faults });
}

/**
 * Applies the service's numbered migrations/*.sql once each, in order. An advisory lock keeps two
 * replicas that start together from applying the same file twice.
 */
export async function migrate(url: string, dir: string, log: Logger): Promise<string[]> {
  const conn = await mysql.createConnection({ uri: url, multipleStatements: true });
  try {
    const [[{ locked }]] = await conn.query<mysql.RowDataPacket[]>(
      "SELECT GET_LOCK(CONCAT('migrate:', DATABASE()), 60) AS locked",
    );
    if (locked !== 1) throw new Error('could not take the migration lock within 60 s');
    await conn.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version VARCHAR(255) PRIMARY KEY, applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)',
    );
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((row) => row.version as string));
    const files = (await readdir(dir)).filter((file) => file.endsWith('.sql')).sort();
    const done: string[] = [];
    for (const file of files.filter((f) => !applied.has(f))) {
      await conn.query(await readFile(path.join(dir, file), 'utf8'));
      await conn.query('INSERT INTO schema_migrations (version) VALUES (?)', [file]);
      log.info('migration applied', { migration: file });
      done.push(file);
    }
    return done;
  } finally {
    await conn.query("SELECT RELEASE_LOCK(CONCAT('migrate:', DATABASE()))").catch(() => undefined);
    await conn.end();
  }
}

/**
 * Database per service: one schema and one user that may touch only that schema. Run with an
 * administrator's URL by whoever sets the lab up (the lab CLI, the tests), never by a service.
 */
export async function provisionSchema(adminUrl: string, schema: string, user: string, password: string): Promise<void> {
  if (!/^[a-z][a-z0-9_]*$/.test(schema) || !/^[a-z][a-z0-9_]*$/.test(user))
    throw new Error(`invalid schema or user name: ${schema}/${user}`);
  const conn = await mysql.createConnection({ uri: adminUrl });
  try {
    await conn.query(`CREATE DATABASE IF NOT EXISTS \`${schema}\``);
    for (const host of ['%', 'localhost']) {
      await conn.query(`CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?`, [user, host, password]);
      await conn.query(`ALTER USER ?@? IDENTIFIED BY ?`, [user, host, password]);
      await conn.query(`GRANT ALL PRIVILEGES ON \`${schema}\`.* TO ?@?`, [user, host]);
    }
  } finally {
    await conn.end();
  }
}
