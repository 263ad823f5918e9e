import { createRegistry } from '@shopnow/kit';
import { createPool, migrate, type Pool } from '@shopnow/kit/mysql';
import type { RowDataPacket } from 'mysql2/promise';
import path from 'node:path';
import { testDatabase } from '../../../test/support/backends';
import { findUserByEmail } from '../src/db';
import { hashPassword, verifyPassword } from '../src/passwords';
import { authenticate, ensureAdmin } from '../src/users';
import { log, uniqueEmail } from './harness';

describe('passwords', () => {
  test('are stored as scrypt$N$r$p$salt$hash and salted afresh each time', async () => {
    const first = await hashPassword('the same password');
    const second = await hashPassword('the same password');
    expect(first).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
    const [, , , , salt, hash] = first.split('$');
    expect(Buffer.from(salt, 'base64')).toHaveLength(16);
    expect(Buffer.from(hash, 'base64')).toHaveLength(64);
    expect(first).not.toBe(second);
    expect(await verifyPassword('the same password', first)).toBe(true);
    expect(await verifyPassword('the same password', second)).toBe(true);
    expect(await verifyPassword('another password', first)).toBe(false);
    expect(await verifyPassword('the same password', 'not-a-hash')).toBe(false);
  });
});

describe('admin bootstrap', () => {
  let pool: Pool;
  beforeAll(async () => {
    const db = testDatabase('auth');
    await migrate(db.url, path.join(__dirname, '..', 'migrations'), log);
    pool = createPool(db.url, { name: 'auth', connectionLimit: 2, registry: createRegistry('auth', 'test') });
  });
  afterAll(() => pool.end());

  test('is idempotent: two starts leave one admin, with the latest password', async () => {
    const email = uniqueEmail('admin');
    await ensureAdmin(pool, { email, password: 'first admin password' });
    await ensureAdmin(pool, { email, password: 'second admin password' });
    const [rows] = await pool.execute<RowDataPacket[]>('SELECT COUNT(*) AS n FROM users WHERE email = ?', [email]);
    expect(rows[0].n).toBe(1);
    expect((await findUserByEmail(pool, email))?.roles).toEqual(['customer', 'admin']);
    expect(await authenticate(pool, email, 'first admin password')).toBeUndefined();
    expect(await authenticate(pool, email, 'second admin password')).toMatchObject({
      email,
      roles: ['customer', 'admin'],
    });
  });
});
