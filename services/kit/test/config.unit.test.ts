import { z } from 'zod';
import { commonEnv, ConfigError, loadConfig, secret, urlList } from '../src/config';

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
