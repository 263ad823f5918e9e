import { ConfigError, loadConfig } from '@shopnow/kit';
import { authEnv } from '../src/config';

const base = { MYSQL_URL: 'mysql://auth:pw@127.0.0.1:3306/auth', JWT_SECRET: 's'.repeat(32) };

test('defaults fill in everything but the database and the secret', () => {
  expect(loadConfig(authEnv, base)).toMatchObject({
    PORT: 8081,
    JWT_ISSUER: 'shopnow-auth',
    JWT_AUDIENCE: 'shopnow',
    JWT_TTL_SECONDS: 3600,
  });
});

test.each([
  ['missing', {}],
  ['shorter than 32 characters', { JWT_SECRET: 's'.repeat(31) }],
])('a JWT_SECRET %s stops the start, naming the variable', (_case, secret) => {
  const env = { MYSQL_URL: base.MYSQL_URL, ...secret };
  expect(() => loadConfig(authEnv, env)).toThrow(ConfigError);
  expect(() => loadConfig(authEnv, env)).toThrow(/JWT_SECRET/);
});

test('ADMIN_EMAIL without ADMIN_PASSWORD is refused', () => {
  expect(() => loadConfig(authEnv, { ...base, ADMIN_EMAIL: 'admin@example.test' })).toThrow(/ADMIN_PASSWORD/);
});
