import { SignJWT } from 'jose';

export interface TokenSettings {
  secret: string;
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

/**
 * Issues the access token. Only auth holds the signing side; the gateway verifies tokens on its
 * own with the same secret, pinned to HS256, so a token with another `alg` is never accepted.
 */
export async function issueToken(user: { id: number; roles: string[] }, settings: TokenSettings): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ roles: user.roles })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(String(user.id))
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + settings.ttlSeconds)
    .sign(new TextEncoder().encode(settings.secret));
}
