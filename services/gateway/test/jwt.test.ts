import { generateKeyPair, SignJWT } from 'jose';
import { bearer, echoOf, SECRET, signToken, startDouble, startGateway, type Double, type Running } from './gateway';

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

describe('JWT verification at the gateway', () => {
  let orders: Double;
  let catalog: Double;
  let gateway: Running;

  beforeAll(async () => {
    [orders, catalog] = await Promise.all([startDouble(), startDouble()]);
    gateway = await startGateway({ urls: { orders: [orders.url], catalog: [catalog.url] } });
  });
  afterAll(async () => {
    await gateway.stop();
    await Promise.all([orders.close(), catalog.close()]);
  });

  const call = (headers: Record<string, string>) => fetch(`${gateway.base}/api/orders`, { headers });

  it('passes a valid token, and one that expired within the 5 s clock tolerance', async () => {
    for (const token of [await signToken(), await signToken(undefined, { expiresIn: -2 })]) {
      const res = await call(bearer(token));
      expect(res.status).toBe(200);
      expect((await echoOf(res)).headers).toMatchObject({ 'x-user-id': '42', 'x-user-roles': 'customer' });
    }
  });

  const refused: Array<[string, () => Promise<Record<string, string>>]> = [
    ['no Authorization header', async () => ({})],
    ['Bearer without a token', async () => ({ authorization: 'Bearer' })],
    ['Bearer and a space', async () => ({ authorization: 'Bearer ' })],
    ['another scheme', async () => ({ authorization: `Basic ${await signToken()}` })],
    ['garbage', async () => bearer('not.a.jwt')],
    [
      'a forged signature',
      async () => bearer(await signToken(undefined, { secret: 'another-secret-that-is-long-enough-98765' })),
    ],
    [
      'alg none',
      async () =>
        bearer(
          `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub: '42', roles: ['admin'], iss: 'shopnow-auth', aud: 'shopnow', exp: now() + 300 })}.`,
        ),
    ],
    ['HS512 with the right secret', async () => bearer(await signToken(undefined, { alg: 'HS512' }))],
    [
      'RS256',
      async () => {
        const { privateKey } = await generateKeyPair('RS256');
        const token = await new SignJWT({ sub: '42', roles: ['customer'] })
          .setProtectedHeader({ alg: 'RS256' })
          .setIssuer('shopnow-auth')
          .setAudience('shopnow')
          .setExpirationTime(now() + 300)
          .sign(privateKey);
        return bearer(token);
      },
    ],
    ['expired', async () => bearer(await signToken(undefined, { expiresIn: -60 }))],
    ['not valid yet (nbf in the future)', async () => bearer(await signToken(undefined, { notBefore: 60 }))],
    ['the wrong issuer', async () => bearer(await signToken(undefined, { issuer: 'someone-else' }))],
    ['the wrong audience', async () => bearer(await signToken(undefined, { audience: 'another-app' }))],
    [
      'no exp',
      async () => {
        const token = new SignJWT({ sub: '42', roles: ['customer'] }).setProtectedHeader({ alg: 'HS256' });
        return bearer(
          await token.setIssuer('shopnow-auth').setAudience('shopnow').sign(new TextEncoder().encode(SECRET)),
        );
      },
    ],
    ['a sub that is not a number', async () => bearer(await signToken({ sub: 'alice', roles: ['customer'] }))],
    ['a sub of zero', async () => bearer(await signToken({ sub: '0', roles: ['customer'] }))],
    [
      'a numeric sub too large to be an id',
      async () => bearer(await signToken({ sub: '9'.repeat(20), roles: ['customer'] })),
    ],
    ['no sub', async () => bearer(await signToken({ roles: ['customer'] }))],
    ['an unknown role', async () => bearer(await signToken({ sub: '42', roles: ['root'] }))],
    ['roles that are not a list', async () => bearer(await signToken({ sub: '42', roles: 'admin' }))],
  ];

  it.each(refused)('refuses %s with 401 and WWW-Authenticate', async (_case, headers) => {
    const before = orders.seen.length;
    const res = await call(await headers());
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await res.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: expect.any(String) } });
    expect(orders.seen.length).toBe(before);
  });

  it('refuses a customer on an admin route with 403, and lets an admin through', async () => {
    const asCustomer = await fetch(`${gateway.base}/api/products/1`, {
      method: 'PUT',
      headers: bearer(await signToken()),
    });
    expect(asCustomer.status).toBe(403);
    const adminToken = await signToken({ sub: '1', roles: ['admin'] });
    const asAdmin = await fetch(`${gateway.base}/api/products/1`, { method: 'PUT', headers: bearer(adminToken) });
    expect(asAdmin.status).toBe(200);
  });
});
