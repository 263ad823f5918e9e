import { z } from 'zod';
import { amqpEnv } from '../src/amqp';
import { commonEnv, ConfigError, loadConfig, port, secret, urlList } from '../src/config';
import { mysqlEnv } from '../src/mysql';
import { redisEnv } from '../src/redis';

const schema = commonEnv.extend({
  PORT: z.coerce.number().int().positive(),
  JWT_SECRET: secret(32),
  CATALOG_URLS: urlList,
});

describe('loadConfig', () => {
  it('returns typed values with defaults applied', () => {
    const config = loadConfig(schema, {
      PORT: '8080',
      JWT_SECRET: 'x'.repeat(32),
      CATALOG_URLS: 'http://127.0.0.1:8082, http://127.0.0.1:8092',
    });
    expect(config.PORT).toBe(8080);
    expect(config.HOST).toBe('127.0.0.1');
    expect(config.CATALOG_URLS).toEqual(['http://127.0.0.1:8082', 'http://127.0.0.1:8092']);
  });

  it('fails naming every variable that is missing or wrong', () => {
    const attempt = () => loadConfig(schema, { PORT: 'eighty', JWT_SECRET: 'short', CATALOG_URLS: 'not a url' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/PORT/);
    expect(attempt).toThrow(/JWT_SECRET: must be at least 32 characters/);
    expect(attempt).toThrow(/CATALOG_URLS/);
  });
});

describe('the shared fragments', () => {
  const schema = commonEnv.extend({ ...mysqlEnv, ...redisEnv, ...amqpEnv, PORT: port.default(8080) });
  const base = { MYSQL_URL: 'mysql://orders:pw@127.0.0.1:3306/orders' };

  it('accept port 0 (the system picks one) and fill in the pool size and the broker defaults', () => {
    expect(loadConfig(schema, { ...base, PORT: '0' })).toMatchObject({
      PORT: 0,
      MYSQL_POOL_SIZE: 10,
      REDIS_URL: 'redis://127.0.0.1:6379',
      AMQP_URL: 'amqp://127.0.0.1:5672',
      EVENTS_EXCHANGE: 'shopnow.events',
    });
  });

  it('refuse a URL of the wrong scheme, naming the variable and the scheme expected', () => {
    const attempt = () =>
      loadConfig(schema, { MYSQL_URL: 'http://127.0.0.1:3306/orders', REDIS_URL: 'redis-host:6379', PORT: '70000' });
    expect(attempt).toThrow(/MYSQL_URL: must be a mysql:\/\/ URL/);
    expect(attempt).toThrow(/REDIS_URL: must be a redis or rediss:\/\/ URL/);
    expect(attempt).toThrow(/PORT/);
  });
});
