import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { documentedSettings, ensureEnvFile, EXAMPLE, parseEnv, readEnv, renderEnv } from '../src/core/env-file';
import { labPaths, ROOT } from '../src/core/paths';
import { components, SCHEMA_SERVICES } from '../src/core/topology';

const example = fs.readFileSync(EXAMPLE, 'utf8');
const secretKeys = Object.entries(parseEnv(example))
  .filter(([, value]) => value === '')
  .map(([key]) => key);
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'lab-env-'));

describe('.env generation', () => {
  it('gives every secret its own random value, long enough for a JWT key', () => {
    const first = parseEnv(renderEnv(example));
    const second = parseEnv(renderEnv(example));
    const values = secretKeys.map((key) => first[key]);
    expect(secretKeys).toEqual(
      expect.arrayContaining(['JWT_SECRET', 'LAB_TOKEN', 'ADMIN_PASSWORD', 'MYSQL_ROOT_PASSWORD']),
    );
    expect(new Set(values).size).toBe(secretKeys.length);
    for (const key of secretKeys) {
      expect(first[key]).toMatch(/^[A-Za-z0-9_-]{32,}$/); // URL-safe: it goes into mysql:// URLs
      expect(second[key]).not.toBe(first[key]);
    }
  });

  it('writes .env once and never overwrites it', () => {
    const file = path.join(tmp(), '.env');
    expect(ensureEnvFile(file)).toBe(true);
    const written = fs.readFileSync(file, 'utf8');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(ensureEnvFile(file)).toBe(false);
    expect(fs.readFileSync(file, 'utf8')).toBe(written);
    fs.writeFileSync(file, 'JWT_SECRET=mine\n');
    expect(ensureEnvFile(file)).toBe(false);
    expect(readEnv(file, {})).toEqual({ JWT_SECRET: 'mine' });
  });

  it('lets the calling environment win over .env', () => {
    const file = path.join(tmp(), '.env');
    fs.writeFileSync(file, 'LOG_LEVEL=info\nTRAFFIC_RATE=5\n');
    expect(readEnv(file, { LOG_LEVEL: 'debug' })).toEqual({ LOG_LEVEL: 'debug', TRAFFIC_RATE: '5' });
  });
});

describe('.env.example', () => {
  const lines = example.split('\n');
  const documented = parseEnv(example);

  it('has a comment above every variable the generator writes', () => {
    const generated = Object.keys(parseEnv(renderEnv(example)));
    expect(generated.length).toBeGreaterThan(15);
    for (const key of generated) {
      const at = lines.findIndex((line) => line.startsWith(`${key}=`));
      expect({ key, above: lines[at - 1]?.startsWith('#') }).toEqual({ key, above: true });
    }
  });

  it('documents every variable docker-compose.yml reads', () => {
    const compose = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
    const used = [...new Set([...compose.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]))];
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((key) => !(key in documented))).toEqual([]);
  });

  it('holds every value lite mode takes from .env', () => {
    for (const service of SCHEMA_SERVICES) expect(documented).toHaveProperty(`${service.toUpperCase()}_DB_PASSWORD`);
    const env = parseEnv(renderEnv(example));
    const list = components({ paths: labPaths({ LAB_HOME: tmp() }), env });
    for (const c of list)
      for (const [key, value] of Object.entries(c.env)) expect({ key, value }).not.toEqual({ key, value: '' });
  });
});

describe('the settings each service documents in .env.example (what `lab config set` accepts)', () => {
  it('are the KEY=value lines under a "# <service>: ..." line, for each service it names', () => {
    const text = [
      '## Optional tunables',
      '# catalog: how long a product stays in the cache.',
      '# CACHE_TTL_SECONDS=60',
      '# orders, payments and auth: the connections of the MySQL pool.',
      '# MYSQL_POOL_SIZE=10',
      '# every service: how much to log.',
      'LOG_LEVEL=info',
      '# A profile from profiles.json: default, noisy...',
      'TRAFFIC_PROFILE=default',
    ].join('\n');
    const keys = Object.fromEntries(
      Object.entries(documentedSettings(text)).map(([service, settings]) => [service, settings.map((s) => s.key)]),
    );
    expect(keys).toEqual({
      catalog: ['CACHE_TTL_SECONDS'],
      orders: ['MYSQL_POOL_SIZE'],
      payments: ['MYSQL_POOL_SIZE'],
      auth: ['MYSQL_POOL_SIZE'],
      'every service': ['LOG_LEVEL'],
    });
    expect(documentedSettings(text).catalog[0]).toEqual({
      key: 'CACHE_TTL_SECONDS',
      default: '60',
      description: 'how long a product stays in the cache.',
    });
  });
});
