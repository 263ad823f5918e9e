import type { Role } from '@shopnow/kit';
import type { Pool } from '@shopnow/kit/mysql';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';

export interface UserRow {
  id: number;
  email: string;
  name: string;
  passwordHash: string;
  roles: Role[];
}

const COLUMNS = 'id, email, name, password_hash, roles';

// mysql2 returns a SET column as one comma-separated string.
function toUser(row: RowDataPacket): UserRow {
  return {
    id: Number(row.id),
    email: row.email as string,
    name: row.name as string,
    passwordHash: row.password_hash as string,
    roles: (row.roles as string).split(',').filter(Boolean) as Role[],
  };
}

/** Throws mysql2's ER_DUP_ENTRY when the email is taken: the unique index decides, not a prior SELECT. */
export async function insertUser(
  pool: Pool,
  user: { email: string; name: string; passwordHash: string },
): Promise<number> {
  const [result] = await pool.execute<ResultSetHeader>(
    "INSERT INTO users (email, name, password_hash, roles) VALUES (?, ?, ?, 'customer')",
    [user.email, user.name, user.passwordHash],
  );
  return result.insertId;
}

export async function findUserByEmail(pool: Pool, email: string): Promise<UserRow | undefined> {
  const [rows] = await pool.execute<RowDataPacket[]>(`SELECT ${COLUMNS} FROM users WHERE email = ?`, [email]);
  return rows[0] && toUser(rows[0]);
}

export async function findUserById(pool: Pool, id: number): Promise<UserRow | undefined> {
  const [rows] = await pool.execute<RowDataPacket[]>(`SELECT ${COLUMNS} FROM users WHERE id = ?`, [id]);
  return rows[0] && toUser(rows[0]);
}

/** Creates the admin, or resets its password and roles: safe to run at every start. */
export async function upsertAdmin(
  pool: Pool,
  admin: { email: string; name: string; passwordHash: string },
): Promise<void> {
  await pool.execute(
    `INSERT INTO users (email, name, password_hash, roles) VALUES (?, ?, ?, 'customer,admin')
     ON DUPLICATE KEY UPDATE password_hash = VALUES(password_hash), roles = 'customer,admin'`,
    [admin.email, admin.name, admin.passwordHash],
  );
}
