import { jwtVerify } from 'jose';
import { startAuth, TOKENS, uniqueEmail, type Harness, type User } from './harness';

interface Login {
  token: string;
  tokenType: string;
  expiresIn: number;
  user: User;
}

let h: Harness;
beforeAll(async () => {
  h = await startAuth();
});
afterAll(() => h.close());

async function registerUser(email = uniqueEmail(), password = 'correct horse battery') {
  const res = await h.request<{ user: User }>('POST', '/auth/register', { body: { email, password, name: 'Ada' } });
  expect(res.status).toBe(201);
  return { email, password, user: res.body.user };
}

test('register, log in and read yourself back', async () => {
  const email = uniqueEmail('Mixed.Case').toUpperCase();
  const { user } = await registerUser(email);
  expect(user).toEqual({ id: expect.any(Number), email: email.toLowerCase(), name: 'Ada', roles: ['customer'] });

  const login = await h.request<Login>('POST', '/auth/login', { body: { email, password: 'correct horse battery' } });
  expect(login.status).toBe(200);
  expect(login.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 3600, user });
  expect(login.body.token.split('.')).toHaveLength(3);

  const me = await h.request<{ user: User }>('GET', '/auth/me', { headers: { 'x-user-id': String(user.id) } });
  expect(me.status).toBe(200);
  expect(me.body.user).toEqual(user);
});

test('the token verifies with HS256, the issuer and the audience, and carries the roles', async () => {
  const { email, password, user } = await registerUser();
  const { body } = await h.request<Login>('POST', '/auth/login', { body: { email, password } });
  const { payload, protectedHeader } = await jwtVerify(body.token, new TextEncoder().encode(TOKENS.secret), {
    algorithms: ['HS256'],
    issuer: TOKENS.issuer,
    audience: TOKENS.audience,
  });
  expect(protectedHeader.alg).toBe('HS256');
  expect(payload).toMatchObject({ sub: String(user.id), roles: ['customer'] });
  expect(payload.exp).toBe((payload.iat ?? 0) + TOKENS.ttlSeconds);
  await expect(
    jwtVerify(body.token, new TextEncoder().encode(TOKENS.secret), { audience: 'someone-else' }),
  ).rejects.toThrow();
});

test('a taken email is a 409, whatever its case', async () => {
  const { email } = await registerUser();
  const again = await h.request('POST', '/auth/register', {
    body: { email: email.toUpperCase(), password: 'another password', name: 'Bob' },
  });
  expect(again.status).toBe(409);
  expect(again.body.error.code).toBe('EMAIL_TAKEN');
});

test('a wrong password and an unknown email get the same 401', async () => {
  const { email } = await registerUser();
  const wrongPassword = await h.request('POST', '/auth/login', { body: { email, password: 'not the password' } });
  const unknownEmail = await h.request('POST', '/auth/login', {
    body: { email: uniqueEmail('nobody'), password: 'not the password' },
  });
  expect(wrongPassword.status).toBe(401);
  expect(unknownEmail.status).toBe(401);
  expect(wrongPassword.body).toEqual(unknownEmail.body);
  expect(wrongPassword.body.error.code).toBe('INVALID_CREDENTIALS');
});

test.each([
  ['a bad email', { email: 'not-an-email', password: 'long enough', name: 'Ada' }],
  ['a too long email', { email: `${'a'.repeat(250)}@example.test`, password: 'long enough', name: 'Ada' }],
  ['a short password', { email: uniqueEmail(), password: 'short', name: 'Ada' }],
  ['a too long password', { email: uniqueEmail(), password: 'p'.repeat(129), name: 'Ada' }],
  ['an empty name', { email: uniqueEmail(), password: 'long enough', name: '' }],
  ['an unknown field', { email: uniqueEmail(), password: 'long enough', name: 'Ada', roles: ['admin'] }],
  ['a number as email', { email: 42, password: 'long enough', name: 'Ada' }],
  ['a missing password', { email: uniqueEmail(), name: 'Ada' }],
  ['an array body', [1, 2]],
])('registration with %s is a 400', async (_case, body) => {
  const res = await h.request('POST', '/auth/register', { body });
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe('VALIDATION_FAILED');
});

test('login with a wrong type or an unknown field is a 400', async () => {
  expect((await h.request('POST', '/auth/login', { body: { email: uniqueEmail(), password: 12345678 } })).status).toBe(
    400,
  );
  expect(
    (await h.request('POST', '/auth/login', { body: { email: uniqueEmail(), password: 'x', remember: true } })).status,
  ).toBe(400);
});

test('/auth/me needs the identity the gateway sets and a user that exists', async () => {
  expect((await h.request('GET', '/auth/me')).status).toBe(401);
  const missing = await h.request('GET', '/auth/me', { headers: { 'x-user-id': '999999999' } });
  expect(missing.status).toBe(404);
});

test('/metrics counts logins by outcome under the route template /auth/login', async () => {
  const { email, password } = await registerUser();
  await h.request('POST', '/auth/login', { body: { email, password } });
  await h.request('POST', '/auth/login', { body: { email, password: 'wrong password' } });
  const { text } = await h.request('GET', '/metrics');
  expect(text).toMatch(/^auth_logins_total\{outcome="success"\} [1-9]\d*$/m);
  expect(text).toMatch(/^auth_logins_total\{outcome="failure"\} [1-9]\d*$/m);
  expect(text).toMatch(/^auth_registrations_total [1-9]\d*$/m);
  expect(text).toMatch(
    /^http_server_request_duration_seconds_count\{method="POST",route="\/auth\/login",status_class="2xx"\} [1-9]/m,
  );
  expect(text).toMatch(
    /^http_server_request_duration_seconds_count\{method="POST",route="\/auth\/login",status_class="4xx"\} [1-9]/m,
  );
});
