import type { Request } from 'express';
import { forbidden, unauthorized } from './errors';

/**
 * Who is calling. The gateway verifies the JWT and passes the result downstream in these headers
 * (dropping any a client sent itself); services behind it trust them and do no crypto of their own.
 */
export const USER_ID_HEADER = 'x-user-id';
export const USER_ROLES_HEADER = 'x-user-roles';

export type Role = 'customer' | 'admin';

export interface Caller {
  userId: number;
  roles: Role[];
}

export function callerOf(req: Request): Caller | undefined {
  const id = Number(req.get(USER_ID_HEADER));
  if (!Number.isSafeInteger(id) || id <= 0) return undefined;
  const roles = (req.get(USER_ROLES_HEADER) ?? '')
    .split(',')
    .map((role) => role.trim())
    .filter((role): role is Role => role === 'customer' || role === 'admin');
  return { userId: id, roles };
}

/** The caller, or a 401 when the request carries no identity. */
export function requireCaller(req: Request): Caller {
  const caller = callerOf(req);
  if (!caller) throw unauthorized();
  return caller;
}

/** The caller if it has `role`, else 401 (anonymous) or 403 (signed in without the role). */
export function requireRole(req: Request, role: Role): Caller {
  const caller = requireCaller(req);
  if (!caller.roles.includes(role)) throw forbidden(`requires the ${role} role`);
  return caller;
}
