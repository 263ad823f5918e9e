import { forbidden, unauthorized, USER_ID_HEADER, USER_ROLES_HEADER, type Caller } from '@shopnow/kit';
import type { Request, RequestHandler, Response } from 'express';
import { jwtVerify } from 'jose';
import { z } from 'zod';
import { accessOf, type Access, type Route } from './routes';

export interface JwtSettings {
  /** The same HS256 secret auth signs with. */
  secret: string;
  issuer: string;
  audience: string;
}

// What the gateway passes downstream must be exactly what services expect: a positive integer id
// (at most 15 digits, so it stays a safe integer) and only the roles services know.
const claims = z.object({
  sub: z.string().regex(/^[1-9]\d{0,14}$/),
  roles: z.array(z.enum(['customer', 'admin'])),
});

export type Verify = (authorization: string) => Promise<Caller>;

/**
 * Verifies a bearer token. The algorithm is pinned: a token that names another one (none, HS512,
 * RS256 signed with a public key passed off as a secret...) is refused before any signature check.
 */
export function createVerifier({ secret, issuer, audience }: JwtSettings): Verify {
  const key = new TextEncoder().encode(secret);
  return async (authorization) => {
    const token = /^Bearer +(\S+)$/i.exec(authorization)?.[1];
    if (!token) throw unauthorized('a Bearer token is required');
    let payload: unknown;
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms: ['HS256'],
        issuer,
        audience,
        requiredClaims: ['exp'],
        clockTolerance: 5,
      }));
    } catch {
      throw unauthorized('the token is invalid or expired');
    }
    const parsed = claims.safeParse(payload);
    if (!parsed.success) throw unauthorized('the token does not name a valid user and roles');
    return { userId: Number(parsed.data.sub), roles: parsed.data.roles };
  };
}

/** Identity headers come from the gateway only: whatever a client sent under x-user-* is dropped. */
function stripIdentity(req: Request): void {
  req.headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !name.startsWith('x-user-')));
}

async function identify(verify: Verify, req: Request, res: Response, access: Access): Promise<Caller | undefined> {
  const authorization = req.get('authorization');
  // On a public route a token is optional: a valid one still names the caller (for its own rate
  // limit), an invalid one is ignored rather than locking anyone out of the shop window.
  if (access === 'public') return authorization ? verify(authorization).catch(() => undefined) : undefined;
  try {
    return await verify(authorization ?? '');
  } catch (err) {
    res.set('WWW-Authenticate', authorization ? 'Bearer error="invalid_token"' : 'Bearer');
    throw err;
  }
}

/** Authentication and authorization for one route, before anything reaches a service. */
export function authenticate(verify: Verify, route: Route): RequestHandler {
  return async (req, res, next) => {
    const access = accessOf(route, req.method);
    stripIdentity(req);
    const caller = await identify(verify, req, res, access);
    if (access === 'admin' && !caller?.roles.includes('admin')) throw forbidden('requires the admin role');
    if (caller) {
      req.headers[USER_ID_HEADER] = String(caller.userId);
      req.headers[USER_ROLES_HEADER] = caller.roles.join(',');
      res.locals.caller = caller;
    }
    next();
  };
}
