import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './dashboards';

/**
 * Every healthcheck in docker-compose.yml runs a program its image ships. No image can be pulled
 * here, so what each pinned image holds is read from the Dockerfile it was built from (at the
 * pinned tag where the upstream repository has tags) and written down below with that source. A
 * new tag for any image fails the first test until its row is checked again.
 */
interface Image {
  /** Programs on the image's PATH that a healthcheck may run. */
  ships: string[];
  source: string;
}

const OUR_IMAGE = 'shopnow-lab/node:0.1.0';

const IMAGES: Record<string, Image> = {
  [OUR_IMAGE]: {
    ships: ['bash', 'node', 'healthcheck.sh'],
    source:
      'Dockerfile (FROM node:24.21.0-trixie-slim: docker-library/node 24/trixie-slim, FROM debian:trixie-slim, ' +
      'where bash is an Essential package) and its `COPY docker/healthcheck.sh /usr/local/bin/`; slim has no curl or wget',
  },
  'mariadb:10.11.19': {
    ships: ['healthcheck.sh', 'mariadb', 'mariadb-admin'],
    source: 'MariaDB/mariadb-docker 10.11/Dockerfile: COPY healthcheck.sh /usr/local/bin/healthcheck.sh',
  },
  'redis:7.0.15': {
    ships: ['redis-server', 'redis-cli', 'sh'],
    source: 'docker-library/redis 7.0/debian/Dockerfile: make install of redis-server and redis-cli, on debian slim',
  },
  'rabbitmq:4.1.2-management': {
    ships: ['rabbitmq-diagnostics', 'rabbitmqctl', 'sh'],
    source: 'docker-library/rabbitmq 4.1/ubuntu/Dockerfile: RabbitMQ sbin on PATH, on ubuntu',
  },
  'prom/prometheus:v3.5.0': {
    ships: ['wget', 'sh'],
    source: 'prometheus/prometheus v3.5.0 Dockerfile: FROM quay.io/prometheus/busybox-linux-amd64 (busybox wget)',
  },
  'prom/alertmanager:v0.28.1': {
    ships: ['wget', 'sh'],
    source:
      'prometheus/alertmanager v0.28.1 Dockerfile: FROM quay.io/prometheus/busybox-linux-amd64 (later ' +
      'releases moved to distroless: check again before a bump)',
  },
  'grafana/grafana:13.1.0': {
    ships: ['wget', 'sh'],
    source: 'Grafana docs, "Configure a Grafana Docker image": the default image is built on Alpine (busybox wget)',
  },
  'jaegertracing/jaeger:2.20.0': {
    ships: ['wget', 'sh'],
    source: 'jaegertracing/jaeger v2.20.0 scripts/build/docker/base/Dockerfile: FROM alpine:3.24.1 (busybox wget)',
  },
  'grafana/loki:3.7.2': {
    ships: [],
    source: 'grafana/loki v3.7.2 cmd/loki/Dockerfile: FROM gcr.io/distroless/static:nonroot (no shell, no client)',
  },
  'otel/opentelemetry-collector-contrib:0.159.0': {
    ships: [],
    source: 'open-telemetry/opentelemetry-collector-releases distributions/otelcol-contrib/Dockerfile: FROM scratch',
  },
  'grafana/k6:2.0.0': {
    ships: ['k6'],
    source: 'a one-shot job (profile `load`): no healthcheck wanted',
  },
};

interface Service {
  image?: string;
  build?: unknown;
  healthcheck?: { test: string[] | string };
}

const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const DOCKERFILE = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');

/** The program a healthcheck starts: CMD's first word, or CMD-SHELL's (a shell runs it). */
function programOf(test: string[] | string): string[] {
  const [kind, ...rest] = typeof test === 'string' ? ['CMD-SHELL', test] : test;
  if (kind === 'CMD') return [rest[0]];
  if (kind === 'CMD-SHELL') return ['sh', rest.join(' ').trim().split(/\s+/)[0]];
  throw new Error(`unexpected healthcheck kind ${kind}`);
}

/** The HEALTHCHECK of our Dockerfile, as compose would inherit it. */
function dockerfileHealthcheck(): string[] {
  const command = /^HEALTHCHECK[\s\S]*?CMD\s+(\[.*\])$/m.exec(DOCKERFILE)?.[1];
  if (!command) throw new Error('the Dockerfile has no exec-form HEALTHCHECK');
  return ['CMD', ...(JSON.parse(command) as string[])];
}

const checks = Object.entries(compose.services).flatMap(([name, service]) => {
  const image = service.image ?? '';
  if (service.healthcheck) return [{ name, image, test: service.healthcheck.test }];
  if (service.build !== undefined) return [{ name, image, test: dockerfileHealthcheck() }];
  return [];
});

describe('images and their healthchecks', () => {
  it('knows what every pinned image in docker-compose.yml ships', () => {
    const images = [...new Set(Object.values(compose.services).map((s) => s.image ?? '(no image)'))].sort();
    expect(images).toEqual(Object.keys(IMAGES).sort());
  });

  it('builds our image under the name the table knows', () => {
    const built = Object.values(compose.services).filter((s) => s.build !== undefined);
    expect(built.length).toBeGreaterThanOrEqual(10);
    for (const service of built) expect(service.image).toBe(OUR_IMAGE);
  });

  it.each(checks.map((c) => [c.name, c.image, c.test] as const))(
    '%s (%s) runs a healthcheck program its image ships',
    (_name, image, test) => {
      const missing = programOf(test).filter((program) => !IMAGES[image].ships.includes(program));
      expect(missing).toEqual([]);
    },
  );

  it('has a healthcheck wherever the image can run one, and none where it cannot', () => {
    const checked = new Set(checks.map((c) => c.name));
    const checkers = ['wget', 'healthcheck.sh', 'redis-cli', 'rabbitmq-diagnostics'];
    const wrong = Object.entries(compose.services)
      .filter(([, s]) => s.image !== 'grafana/k6:2.0.0')
      .filter(([name, s]) => IMAGES[s.image ?? ''].ships.some((p) => checkers.includes(p)) !== checked.has(name))
      .map(([name]) => name);
    expect(wrong).toEqual([]);
  });

  it('tells a program an image lacks from one it ships', () => {
    expect(programOf(['CMD', 'wget', '-q', 'http://x'])).toEqual(['wget']);
    expect(programOf('curl -f http://x')).toEqual(['sh', 'curl']);
    expect(IMAGES['grafana/loki:3.7.2'].ships).not.toContain(programOf(['CMD', 'wget'])[0]);
  });
});
