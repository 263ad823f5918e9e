import { randomBytes } from 'node:crypto';
import { AppError } from '@shopnow/kit';
import { type Pool } from '@shopnow/kit/mysql';
import { findUserByEmail, insertUser, upsertAdmin, type UserRow } from './db';
import { hashPassword, verifyPassword } from './passwords';

export type PublicUser = Pick<UserRow, 'id' | 'email' | 'name' | 'roles'>;

export const toPublic = ({ id, email, name, roles }: UserRow): PublicUser => ({ id, email, name, roles });

const isDuplicateKey = (err: unknown) => (err as { code?: unknown }).code === 'ER_DUP_ENTRY';

export async function register(
  pool: Pool,
  input: { email: string; password: string; name: string },
): Promise<PublicUser> {
  const passwordHash = await hashPassword(input.password);
  try {
    const id = await insertUser(pool, { email: input.email, name: input.name, passwordHash });
    return { id, email: input.email, name: input.name, roles: ['customer'] };
  } catch (err) {
    if (isDuplicateKey(err)) throw new AppError(409, 'EMAIL_TAKEN', 'an account with this email already exists');
    throw err;
  }
}

// Compared against when the email is unknown, so that a miss costs the same scrypt work as a hit
// and the response time does not tell which emails have accounts.
const decoyHash = hashPassword(randomBytes(16).toString('hex'));

/** The user if the email and password match, else undefined, whichever of the two was wrong. */
export async function authenticate(pool: Pool, email: string, password: string): Promise<PublicUser | undefined> {
  const user = await findUserByEmail(pool, email);
  const matches = await verifyPassword(password, user?.passwordHash ?? (await decoyHash));
  return user && matches ? toPublic(user) : undefined;
}

/** The operator's admin account, from ADMIN_EMAIL/ADMIN_PASSWORD: created or reset at every start. */
export async function ensureAdmin(pool: Pool, admin: { email: string; password: string }): Promise<void> {
  await upsertAdmin(pool, {
    email: admin.email,
    name: 'Administrator',
    passwordHash: await hashPassword(admin.password),
  });
}
