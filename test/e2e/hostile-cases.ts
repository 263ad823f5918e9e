import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { send } from '../support/client';

/**
 * The table of hostile and malformed requests the gateway must turn away with the right 4xx and
 * a JSON error: bad JSON, wrong types, oversized bodies, unknown fields, injection strings,
 * missing/forged/expired/alg=none JWTs, another user's order, negative quantities, unknown routes.
 */
export interface Actors {
  gateway: string;
  customer: { token: string; userId: number };
  adminToken: string;
  otherUsersOrderId: string;
  jwtSecret: string;
}

interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface HostileCase {
  name: string;
  expect: number | number[];
  request: (actors: Actors) => RawRequest | Promise<RawRequest>;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

async function token(
  secret: string,
  claims: Record<string, unknown>,
  options: { alg?: string; iss?: string; aud?: string; exp?: number; nbf?: number } = {},
) {
  const jwt = new SignJWT({ roles: ['customer'], ...claims })
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setSubject(String(claims.sub ?? '1'))
    .setIssuer(options.iss ?? 'shopnow-auth')
    .setAudience(options.aud ?? 'shopnow')
    .setIssuedAt()
    .setExpirationTime(options.exp ?? now() + 600);
  if (options.nbf) jwt.setNotBefore(options.nbf);
  return jwt.sign(new TextEncoder().encode(secret));
}

const me = (authorization: string): RawRequest => ({ method: 'GET', path: '/api/auth/me', headers: { authorization } });
const register = (body: string, headers: Record<string, string> = JSON_TYPE): RawRequest => ({
  method: 'POST',
  path: '/api/auth/register',
  headers,
  body,
});
const goodUser = () => ({ email: `h-${randomUUID()}@shopnow.test`, password: 'correct horse battery', name: 'H' });
const order = (a: Actors, body: unknown, key: string | null = `k-${randomUUID()}`): RawRequest => ({
  method: 'POST',
  path: '/api/orders',
  headers: {
    ...JSON_TYPE,
    authorization: `Bearer ${a.customer.token}`,
    ...(key === null ? {} : { 'idempotency-key': key }),
  },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const asCustomer = (a: Actors, method: string, path: string, body?: unknown): RawRequest => ({
  method,
  path,
  headers: { ...JSON_TYPE, authorization: `Bearer ${a.customer.token}` },
  body: body === undefined ? undefined : JSON.stringify(body),
});
const asAdmin = (a: Actors, method: string, path: string, body?: unknown): RawRequest => ({
  method,
  path,
  headers: { ...JSON_TYPE, authorization: `Bearer ${a.adminToken}` },
  body: body === undefined ? undefined : JSON.stringify(body),
});
const line = (productId: unknown, quantity: unknown) => ({ items: [{ productId, quantity }] });

export const hostileCases: HostileCase[] = [
  // Bodies: syntax, types, sizes, unknown fields
  { name: 'register: invalid JSON', expect: 400, request: () => register('{"email": "a@b.c",') },
  { name: 'register: JSON array body', expect: 400, request: () => register('[1,2,3]') },
  { name: 'register: JSON null body', expect: 400, request: () => register('null') },
  {
    name: 'register: email is a number',
    expect: 400,
    request: () => register(JSON.stringify({ ...goodUser(), email: 12345 })),
  },
  {
    name: 'register: password missing',
    expect: 400,
    request: () => register(JSON.stringify({ email: 'x@shopnow.test', name: 'x' })),
  },
  {
    name: 'register: unknown field',
    expect: 400,
    request: () => register(JSON.stringify({ ...goodUser(), nickname: 'x' })),
  },
  {
    name: 'register: asks for the admin role',
    expect: 400,
    request: () => register(JSON.stringify({ ...goodUser(), roles: ['admin'] })),
  },
  {
    name: 'register: SQL injection as email',
    expect: 400,
    request: () => register(JSON.stringify({ ...goodUser(), email: "' OR 1=1 --" })),
  },
  {
    name: 'register: body over 64 KiB',
    expect: 413,
    request: () => register(JSON.stringify({ ...goodUser(), name: 'x'.repeat(70_000) })),
  },
  {
    name: 'register: password of 10,000 characters',
    expect: 400,
    request: () => register(JSON.stringify({ ...goodUser(), password: 'p'.repeat(10_000) })),
  },
  {
    name: 'register: JSON sent as text/plain',
    expect: [400, 415],
    request: () => register(JSON.stringify(goodUser()), { 'content-type': 'text/plain' }),
  },
  {
    name: 'register: unsupported charset',
    expect: 415,
    request: () => register(JSON.stringify(goodUser()), { 'content-type': 'application/json; charset=latin1' }),
  },
  {
    name: 'register: prototype pollution keys',
    expect: 400,
    request: () => register('{"__proto__": {"admin": true}, "constructor": {"prototype": {"x": 1}}}'),
  },
  {
    name: 'login: wrong password',
    expect: 401,
    request: () => ({
      method: 'POST',
      path: '/api/auth/login',
      headers: JSON_TYPE,
      body: JSON.stringify({ email: 'admin@shopnow.test', password: 'not-the-password' }),
    }),
  },
  {
    name: 'login: unknown user',
    expect: 401,
    request: () => ({
      method: 'POST',
      path: '/api/auth/login',
      headers: JSON_TYPE,
      body: JSON.stringify({ email: `nobody-${randomUUID()}@shopnow.test`, password: 'whatever123' }),
    }),
  },
  {
    name: 'login: operator injection object as email',
    expect: 400,
    request: () => ({
      method: 'POST',
      path: '/api/auth/login',
      headers: JSON_TYPE,
      body: '{"email": {"$gt": ""}, "password": {"$ne": null}}',
    }),
  },

  // Authentication: missing, malformed, forged, expired JWTs
  { name: 'me: no Authorization header', expect: 401, request: () => ({ method: 'GET', path: '/api/auth/me' }) },
  { name: 'me: Bearer without a token', expect: 401, request: () => me('Bearer ') },
  {
    name: 'me: Basic credentials',
    expect: 401,
    request: () => me(`Basic ${Buffer.from('admin:admin').toString('base64')}`),
  },
  { name: 'me: garbage token', expect: 401, request: () => me('Bearer not.a.jwt') },
  {
    name: 'me: forged signature',
    expect: 401,
    request: async (a) => me(`Bearer ${await token('x'.repeat(43), { sub: String(a.customer.userId) })}`),
  },
  {
    name: 'me: alg=none',
    expect: 401,
    request: (a) =>
      me(
        `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: String(a.customer.userId), roles: ['admin'], iss: 'shopnow-auth', aud: 'shopnow', exp: now() + 600 })}.`,
      ),
  },
  {
    name: 'me: HS512 with the right secret',
    expect: 401,
    request: async (a) =>
      me(`Bearer ${await token(a.jwtSecret, { sub: String(a.customer.userId) }, { alg: 'HS512' })}`),
  },
  {
    name: 'me: expired',
    expect: 401,
    request: async (a) =>
      me(`Bearer ${await token(a.jwtSecret, { sub: String(a.customer.userId) }, { exp: now() - 3600 })}`),
  },
  {
    name: 'me: not valid yet',
    expect: 401,
    request: async (a) =>
      me(`Bearer ${await token(a.jwtSecret, { sub: String(a.customer.userId) }, { nbf: now() + 3600 })}`),
  },
  {
    name: 'me: wrong issuer',
    expect: 401,
    request: async (a) => me(`Bearer ${await token(a.jwtSecret, { sub: String(a.customer.userId) }, { iss: 'evil' })}`),
  },
  {
    name: 'me: wrong audience',
    expect: 401,
    request: async (a) =>
      me(`Bearer ${await token(a.jwtSecret, { sub: String(a.customer.userId) }, { aud: 'another-shop' })}`),
  },
  {
    name: 'me: subject is not a user id',
    expect: 401,
    request: async (a) => me(`Bearer ${await token(a.jwtSecret, { sub: '1 OR 1=1' })}`),
  },
  {
    name: 'me: identity headers without a token',
    expect: 401,
    request: () => ({ method: 'GET', path: '/api/auth/me', headers: { 'x-user-id': '1', 'x-user-roles': 'admin' } }),
  },

  // Catalog: ids, paging, search, admin updates
  { name: 'product id is a word', expect: [400, 404], request: () => ({ method: 'GET', path: '/api/products/abc' }) },
  { name: 'product id is negative', expect: [400, 404], request: () => ({ method: 'GET', path: '/api/products/-1' }) },
  {
    name: 'product id is a fraction',
    expect: [400, 404],
    request: () => ({ method: 'GET', path: '/api/products/1.5' }),
  },
  {
    name: 'product id overflows',
    expect: [400, 404],
    request: () => ({ method: 'GET', path: '/api/products/99999999999999999999999' }),
  },
  {
    name: 'product id with SQL injection',
    expect: [400, 404],
    request: () => ({ method: 'GET', path: '/api/products/1%27%20OR%201=1%20--' }),
  },
  {
    name: 'product id with a NUL byte',
    expect: [400, 404],
    request: () => ({ method: 'GET', path: '/api/products/%00' }),
  },
  { name: 'page is negative', expect: 400, request: () => ({ method: 'GET', path: '/api/products?page=-1' }) },
  { name: 'page size is huge', expect: 400, request: () => ({ method: 'GET', path: '/api/products?pageSize=100000' }) },
  { name: 'page is a word', expect: 400, request: () => ({ method: 'GET', path: '/api/products?page=abc' }) },
  { name: 'search without a query', expect: 400, request: () => ({ method: 'GET', path: '/api/products/search?q=' }) },
  {
    name: 'search query of 5,000 characters',
    expect: 400,
    request: () => ({ method: 'GET', path: `/api/products/search?q=${'a'.repeat(5_000)}` }),
  },
  {
    name: 'update a product anonymously',
    expect: 401,
    request: () => ({ method: 'PUT', path: '/api/products/1', headers: JSON_TYPE, body: '{"priceCents": 1}' }),
  },
  {
    name: 'update a product as a customer',
    expect: 403,
    request: (a) => asCustomer(a, 'PUT', '/api/products/1', { priceCents: 1 }),
  },
  {
    name: 'update a product as a customer, claiming admin in headers',
    expect: 403,
    request: (a) => {
      const r = asCustomer(a, 'PUT', '/api/products/1', { priceCents: 1 });
      r.headers = { ...r.headers, 'x-user-roles': 'admin', 'x-user-id': '1' };
      return r;
    },
  },
  {
    name: 'admin sets a negative price',
    expect: 400,
    request: (a) => asAdmin(a, 'PUT', '/api/products/1', { priceCents: -100 }),
  },
  {
    name: 'admin sends an unknown field',
    expect: 400,
    request: (a) => asAdmin(a, 'PUT', '/api/products/1', { priceCents: 100, stock: 5 }),
  },
  {
    name: 'admin updates a product id that is a word',
    expect: [400, 404],
    request: (a) => asAdmin(a, 'PUT', '/api/products/abc', { priceCents: 100 }),
  },
  {
    name: 'admin updates a product that does not exist',
    expect: 404,
    request: (a) => asAdmin(a, 'PUT', '/api/products/987654', { priceCents: 100 }),
  },
  {
    name: 'delete a product (no such operation)',
    expect: [404, 405],
    request: (a) => asAdmin(a, 'DELETE', '/api/products/1'),
  },

  // Orders: checkout input, idempotency, ownership
  {
    name: 'order without a token',
    expect: 401,
    request: () => ({
      method: 'POST',
      path: '/api/orders',
      headers: { ...JSON_TYPE, 'idempotency-key': `k-${randomUUID()}` },
      body: JSON.stringify(line(1, 1)),
    }),
  },
  { name: 'order without an Idempotency-Key', expect: 400, request: (a) => order(a, line(1, 1), null) },
  {
    name: 'order with a malformed Idempotency-Key',
    expect: 400,
    request: (a) => order(a, line(1, 1), "k'; DROP TABLE orders;--"),
  },
  { name: 'order with a negative quantity', expect: 400, request: (a) => order(a, line(1, -2)) },
  { name: 'order with quantity zero', expect: 400, request: (a) => order(a, line(1, 0)) },
  { name: 'order with an absurd quantity', expect: 400, request: (a) => order(a, line(1, 1_000_000)) },
  { name: 'order with quantity as a string', expect: 400, request: (a) => order(a, line(1, '2')) },
  { name: 'order with a fractional quantity', expect: 400, request: (a) => order(a, line(1, 1.5)) },
  { name: 'order with a negative product id', expect: 400, request: (a) => order(a, line(-5, 1)) },
  { name: 'order with no items', expect: 400, request: (a) => order(a, { items: [] }) },
  { name: 'order whose items are not a list', expect: 400, request: (a) => order(a, { items: 'all of them' }) },
  {
    name: 'order with an unknown field (a price)',
    expect: 400,
    request: (a) => order(a, { ...line(1, 1), totalCents: 1 }),
  },
  {
    name: 'order listing a product twice',
    expect: 400,
    request: (a) =>
      order(a, {
        items: [
          { productId: 1, quantity: 1 },
          { productId: 1, quantity: 2 },
        ],
      }),
  },
  { name: 'order with invalid JSON', expect: 400, request: (a) => order(a, '{"items": [') },
  { name: 'order of a product that does not exist', expect: 422, request: (a) => order(a, line(987654, 1)) },
  {
    name: 'order reusing a key with another body',
    expect: 422,
    request: async (a) => {
      const key = `reused-${randomUUID()}`;
      const first = order(a, line(1, 1), key);
      await send(a.gateway, first.method, first.path, first);
      return order(a, line(2, 1), key);
    },
  },
  {
    name: "another user's order",
    expect: 403,
    request: (a) => asCustomer(a, 'GET', `/api/orders/${a.otherUsersOrderId}`),
  },
  {
    name: 'an order id that is not a uuid',
    expect: [400, 404],
    request: (a) => asCustomer(a, 'GET', '/api/orders/1%20OR%201=1'),
  },
  {
    name: 'an order that does not exist',
    expect: 404,
    request: (a) => asCustomer(a, 'GET', `/api/orders/${randomUUID()}`),
  },
  { name: 'orders page zero', expect: 400, request: (a) => asCustomer(a, 'GET', '/api/orders?page=0') },

  // Routing
  { name: 'unknown API route', expect: 404, request: () => ({ method: 'GET', path: '/api/unknown' }) },
  { name: 'the root', expect: 404, request: () => ({ method: 'GET', path: '/' }) },
  { name: 'path traversal', expect: 404, request: () => ({ method: 'GET', path: '/api/../../etc/passwd' }) },
  {
    name: 'encoded path traversal',
    expect: [400, 404],
    request: () => ({ method: 'GET', path: '/api/products/..%2f..%2fetc%2fpasswd' }),
  },
  { name: 'a service path without /api', expect: 404, request: () => ({ method: 'GET', path: '/orders' }) },
  {
    name: 'a very long path',
    expect: [404, 414],
    request: () => ({ method: 'GET', path: `/api/${'x'.repeat(6_000)}` }),
  },
  { name: 'TRACE method', expect: [404, 405], request: () => ({ method: 'TRACE', path: '/api/products' }) },
];
