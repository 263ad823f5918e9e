import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRegistry } from '@shopnow/kit';
import { createPool, type Pool } from '@shopnow/kit/mysql';
import type { RowDataPacket } from 'mysql2';
import { seedInOwnProcess, seedOrders } from '../src/seed';
import { database, log, migrateSchema } from './harness';
import { eventually } from '../../../test/support/eventually';

// Real MariaDB (test_orders). 7,000 rows cross the 5,000-row statement boundary.
describe('seeding historic orders', () => {
  let pool: Pool;
  const removeSeeded = () =>
    pool.query(
      "DELETE o, i FROM orders o LEFT JOIN order_items i ON i.order_id = o.id WHERE o.idempotency_key LIKE 'seed:%'",
    );
  const one = async (sql: string) => (await pool.query<RowDataPacket[]>(sql))[0][0];

  beforeAll(async () => {
    await migrateSchema();
    pool = createPool(database.url, { name: 'orders', connectionLimit: 2, registry: createRegistry('orders', 'test') });
    await removeSeeded();
  });
  afterAll(async () => {
    await removeSeeded();
    await pool.end();
  });

  it('inserts the asked count of paid orders with 1 to 3 lines, spread over the past year', async () => {
    expect(await seedOrders(pool, 7_000, log)).toBe(7_000);
    const stats = await one(`
      SELECT COUNT(*) AS orders, MIN(user_id) AS minUser, MAX(user_id) AS maxUser, SUM(status <> 'paid') AS notPaid,
             MIN(created_at) > NOW() - INTERVAL 366 DAY AS withinYear, MAX(created_at) <= NOW() AS inPast
      FROM orders WHERE idempotency_key LIKE 'seed:%'`);
    expect(stats).toMatchObject({ orders: 7_000, notPaid: 0, withinYear: 1, inPast: 1 });
    expect(stats.minUser).toBeGreaterThanOrEqual(1);
    expect(stats.maxUser).toBeLessThanOrEqual(5_000);
    const lines = await one(`
      SELECT MIN(n) AS fewest, MAX(n) AS most, SUM(total_cents <> sum_cents) AS wrongTotals, MAX(max_product) AS maxProduct FROM (
        SELECT COUNT(*) AS n, o.total_cents, SUM(i.price_cents * i.quantity) AS sum_cents, MAX(i.product_id) AS max_product
        FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.idempotency_key LIKE 'seed:%' GROUP BY o.id, o.total_cents) t`);
    expect(lines).toMatchObject({ fewest: 1, most: 3, wrongTotals: 0 });
    expect(lines.maxProduct).toBeLessThanOrEqual(1_000);
  });

  it('seeds nothing on a second start, and only tops up when asked for more', async () => {
    expect(await seedOrders(pool, 7_000, log)).toBe(0);
    expect(await seedOrders(pool, 7_500, log)).toBe(500);
    expect((await one("SELECT COUNT(*) AS n FROM orders WHERE idempotency_key LIKE 'seed:%'")).n).toBe(7_500);
  });

  it('tops up from a process of its own, and says so when that process fails', async () => {
    await seedInOwnProcess(database.url, 7_600, 'warn');
    expect((await one("SELECT COUNT(*) AS n FROM orders WHERE idempotency_key LIKE 'seed:%'")).n).toBe(7_600);
    const unreachable = database.url.replace(/@[^/]+\//, '@127.0.0.1:1/');
    await expect(seedInOwnProcess(unreachable, 7_700, 'error')).rejects.toThrow(
      'seeding historic orders ended with exit code 1',
    );
  });

  it('ends with orders: killed while it waits, orders leaves no seed writing on', async () => {
    const seeded = async () =>
      Number((await one("SELECT COUNT(*) AS n FROM orders WHERE idempotency_key LIKE 'seed:%'")).n);
    const before = await seeded();
    // orders as it starts: waiting on a seed far too large to finish, from the compiled code.
    const seedModule = path.join(__dirname, '..', 'dist', 'seed.js');
    const orders = spawn(
      process.execPath,
      ['-e', `require(${JSON.stringify(seedModule)}).seedInOwnProcess(process.env.URL, 100000000, 'error')`],
      { env: { ...process.env, URL: database.url }, stdio: 'ignore' },
    );
    const alive = (pid: number) => {
      try {
        return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); // a zombie has ended
      } catch {
        return false;
      }
    };
    const seed = await eventually('a seed process', 15_000, () => {
      const children = `/proc/${orders.pid}/task/${orders.pid}/children`;
      const pid = Number(fs.existsSync(children) ? fs.readFileSync(children, 'utf8').trim().split(' ')[0] : 0);
      return pid > 0 ? pid : undefined;
    });
    await eventually('the seed writing', 15_000, async () => ((await seeded()) > before ? true : undefined));

    orders.kill('SIGKILL');
    await eventually(`seed process ${seed} gone`, 15_000, () => (alive(seed) ? undefined : true));
    const after = await seeded();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await seeded()).toBe(after);
  });
});
