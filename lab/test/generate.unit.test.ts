import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { GENERATED, generate, staleFiles } from '../src/core/generate';
import { labPaths, ROOT } from '../src/core/paths';
import { components } from '../src/core/topology';

/** A copy of the repository's generated files (and what they are made from) to break on purpose. */
function copyOfRepository(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-generate-'));
  for (const file of [...GENERATED, 'package.json']) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, file), path.join(root, file));
  }
  return root;
}

describe('the files generated from the service manifest', () => {
  it('are committed as `make generate` writes them', () => {
    const stale = staleFiles().map(({ file }) => file);
    expect({ stale, fix: 'run `make generate` and commit the result' }).toEqual({
      stale: [],
      fix: 'run `make generate` and commit the result',
    });
  });

  it('name the file that is out of date, and only it', () => {
    const root = copyOfRepository();
    const compose = path.join(root, 'docker-compose.yml');
    fs.writeFileSync(compose, fs.readFileSync(compose, 'utf8').replace("PORT: '8083'", "PORT: '9083'"));
    expect(staleFiles(root).map(({ file }) => file)).toEqual(['docker-compose.yml']);
    // Only the drifted value is rewritten: the rest of the file, comments included, stays.
    const fixed = generate(root).find(({ file }) => file === 'docker-compose.yml')?.text;
    expect(fixed).toBe(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'));
  });

  it('put back a key taken out and drop a schema password the manifest does not have', () => {
    const root = copyOfRepository();
    const compose = path.join(root, 'docker-compose.yml');
    const original = fs.readFileSync(compose, 'utf8');
    const edited = original
      .replace("      MALLOC_MMAP_THRESHOLD_: '131072'\n", '') // the gateway's, its environment's last key
      .replace(
        /^(\s+)AUTH_DB_PASSWORD: .*$/m,
        (line, indent: string) => `${line}\n${indent}SHOP_DB_PASSWORD: \${SHOP}`,
      );
    expect(edited).not.toBe(original);
    fs.writeFileSync(compose, edited);
    expect(generate(root).find(({ file }) => file === 'docker-compose.yml')?.text).toBe(original);
  });

  it('run every Node process with the same flags, port and malloc setting in Docker as in lite mode', () => {
    const services = (
      parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
        services: Record<string, { environment: Record<string, string> }>;
      }
    ).services;
    // The telemetry store runs in lite mode only.
    const nodes = components({ paths: labPaths({ LAB_HOME: ROOT }), env: {} }).filter(
      (c) => c.command === process.execPath && c.kind !== 'store',
    );
    expect(nodes.map((c) => c.name)).toEqual(expect.arrayContaining(['gateway', 'lab-webhook', 'traffic']));
    for (const c of nodes) {
      const flags = c.args.filter((arg) => arg.startsWith('--max-'));
      const { environment } = services[c.name];
      expect([c.name, environment.NODE_OPTIONS, environment.PORT ?? environment.TRAFFIC_PORT]).toEqual([
        c.name,
        flags.join(' '),
        String(c.port),
      ]);
      expect(environment.MALLOC_MMAP_THRESHOLD_).toBe(c.env.MALLOC_MMAP_THRESHOLD_);
    }
    expect(services.gateway.environment.NODE_OPTIONS).toContain('--max-semi-space-size=8');
  });

  it('give the MariaDB init script one schema per service that owns one', () => {
    const script = generate().find(({ file }) => file === 'docker/mysql-init/01-databases.sh')?.text ?? '';
    expect(script).toContain('SERVICES=(auth catalog orders payments inventory notifications)');
  });
});
