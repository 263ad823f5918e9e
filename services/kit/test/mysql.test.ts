import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { createLogger } from '../src/logger';
import { createRegistry } from '../src/metrics';
import { createPool, migrate, provisionSchema, withTransaction, type Pool } from '../src/mysql';
import { MYSQL_ADMIN_URL } from '../../../test/support/backends';

const log = createLogger('kit-test', 'error');
const admin = new URL(MYSQL_ADMIN_URL);
const urlFor = (user: string, password: string) => `mysql://${user}:${password}@${admin.host}/${user}`;

describe('database per service', () => {
  const url = urlFor('test_kit', 'kit-password-1');
  let pool: Pool;
  const registry = createRegistry('kit-test', '0');

  beforeAll(async () => {
    await provisionSchema(MYSQL_ADMIN_URL, 'test_kit', 'test_kit', 'kit-password-1');
    await provisionSchema(MYSQL_ADMIN_URL, 'test_kit_other', 'test_kit_other', 'kit-password-2');
    const conn = await mysql.createConnection({ uri: url });
    await conn.query('DROP TABLE IF EXISTS schema_migrations, widgets');
    await conn.end();
    pool = createPool(url, { name: 'kit', connectionLimit: 2, registry });
  });
  afterAll(() => pool.end());

  it('provisioning twice is harmless, and a service user cannot read another schema', async () => {
    await provisionSchema(MYSQL_ADMIN_URL, 'test_kit', 'test_kit', 'kit-password-1');
    await expect(pool.query('SELECT 1 FROM test_kit_other.schema_migrations')).rejects.toThrow(/denied/);
  });

  it('applies each migration once, in order, even when two replicas start together', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'migrations-'));
    writeFileSync(path.join(dir, '001_widgets.sql'), 'CREATE TABLE widgets (id INT PRIMARY KEY, name VARCHAR(20));');
    writeFileSync(
      path.join(dir, '002_seed.sql'),
      "INSERT INTO widgets VALUES (1, 'one');\nINSERT INTO widgets VALUES (2, 'two');",
    );
    const [first, second] = await Promise.all([migrate(url, dir, log), migrate(url, dir, log)]);
    expect([...first, ...second].sort()).toEqual(['001_widgets.sql', '002_seed.sql']);
    expect(await migrate(url, dir, log)).toEqual([]);
    const [rows] = await pool.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM widgets');
    expect(rows[0].n).toBe(2);
  });

  it('rolls a transaction back when the work throws', async () => {
    await expect(
      withTransaction(pool, async (conn) => {
        await conn.query("INSERT INTO widgets VALUES (3, 'three')");
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    const [rows] = await pool.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM widgets WHERE id = 3');
    expect(rows[0].n).toBe(0);
  });

  it('exports pool saturation: used, idle, max and waiting requests', async () => {
    const held = await Promise.all([pool.getConnection(), pool.getConnection()]);
    const waiting = pool.query('SELECT 1');
    const text = await registry.metrics();
    expect(text).toContain('db_client_connections{pool="kit",state="used"} 2');
    expect(text).toContain('db_client_connection_max{pool="kit"} 2');
    expect(text).toContain('db_client_connection_pending_requests{pool="kit"} 1');
    held.forEach((conn) => conn.release());
    await waiting;
    expect(await registry.metrics()).toContain('db_client_connection_pending_requests{pool="kit"} 0');
  });
});
