import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './dashboards';

/**
 * The collector, Loki and Jaeger configs, checked without their binaries: they parse, every
 * pipeline is wired to components that exist, names are the ones the pinned versions know, and
 * the keys each backend needs for this lab (OTLP, structured metadata, bounded memory) are there.
 */
type Config = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const load = (file: string): Config => parse(readFileSync(path.join(ROOT, 'observability', file), 'utf8')) as Config;
const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as Config;
const mebibytes = (limit: string) => Number(/^(\d+)m$/.exec(limit)?.[1]);
/** `otlp_grpc/jaeger` is a component of type `otlp_grpc` named `jaeger`. */
const typeOf = (id: string) => id.split('/')[0];

/** Component types of contrib 0.159 this lab may use (since 0.144 the OTLP exporters are otlp_grpc and otlp_http). */
const KNOWN = {
  receivers: ['otlp'],
  processors: ['memory_limiter', 'batch', 'resource'],
  exporters: ['otlp_grpc', 'otlp_http', 'prometheus', 'debug'],
  connectors: ['spanmetrics'],
  extensions: ['health_check'],
};

describe('observability/otel-collector/config.yml', () => {
  const config = load('otel-collector/config.yml');
  const pipelines = Object.entries(config.service.pipelines as Record<string, Config>);

  it('declares only component types the pinned collector knows', () => {
    for (const [kind, known] of Object.entries(KNOWN)) {
      const unknown = Object.keys(config[kind] ?? {}).filter((id) => !known.includes(typeOf(id)));
      expect(unknown).toEqual([]);
    }
  });

  it('wires every pipeline to declared components only, and uses every declared one', () => {
    const used = new Set<string>();
    const undeclared: string[] = [];
    for (const [name, pipeline] of pipelines) {
      const refs: Array<[string, string[]]> = [
        ['receivers', pipeline.receivers],
        ['processors', pipeline.processors ?? []],
        ['exporters', pipeline.exporters],
      ];
      for (const [kind, ids] of refs) {
        for (const id of ids) {
          // A connector is an exporter of one pipeline and a receiver of another.
          const declared = id in (config[kind] ?? {}) || (kind !== 'processors' && id in (config.connectors ?? {}));
          if (!declared) undeclared.push(`${name}: ${kind} ${id}`);
          used.add(id);
        }
      }
    }
    expect(undeclared).toEqual([]);
    const declared = ['receivers', 'processors', 'exporters', 'connectors'].flatMap((kind) =>
      Object.keys(config[kind] ?? {}),
    );
    expect(declared.filter((id) => !used.has(id))).toEqual([]);
    for (const extension of config.service.extensions as string[])
      expect(config.extensions).toHaveProperty([extension]);
  });

  it('has the traces, logs and metrics pipelines, each limited first and batched', () => {
    const signals = pipelines.map(([name]) => typeOf(name)).sort();
    expect(signals).toEqual(['logs', 'metrics', 'traces']);
    for (const [, pipeline] of pipelines) {
      expect(pipeline.processors[0]).toBe('memory_limiter');
      expect(pipeline.processors.at(-1)).toBe('batch');
    }
  });

  it('receives OTLP over gRPC and HTTP on every interface of the container', () => {
    expect(config.receivers.otlp.protocols.grpc.endpoint).toBe('0.0.0.0:4317');
    expect(config.receivers.otlp.protocols.http.endpoint).toBe('0.0.0.0:4318');
  });

  it('sends traces to Jaeger, logs to Loki over OTLP, and span metrics to Prometheus with exemplars', () => {
    const exporterOf = (signal: string) =>
      pipelines.filter(([name]) => typeOf(name) === signal).flatMap(([, p]) => p.exporters as string[]);
    const traces = exporterOf('traces').filter((id) => typeOf(id) === 'otlp_grpc');
    expect(traces.map((id) => config.exporters[id].endpoint)).toEqual(['jaeger:4317']);
    expect(exporterOf('traces')).toContain('spanmetrics');
    const logs = exporterOf('logs');
    expect(logs.map((id) => [typeOf(id), config.exporters[id].endpoint])).toEqual([
      ['otlp_http', 'http://loki:3100/otlp'],
    ]);
    const metrics = exporterOf('metrics');
    expect(metrics).toEqual(['prometheus']);
    expect(config.exporters.prometheus.endpoint).toBe('0.0.0.0:8889');
    expect(config.exporters.prometheus.enable_open_metrics).toBe(true);
    expect(config.connectors.spanmetrics.exemplars.enabled).toBe(true);
  });

  it('builds span-metric histograms on the same buckets as the services (in milliseconds)', () => {
    const seconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, 10];
    const buckets = (config.connectors.spanmetrics.histogram.explicit.buckets as string[]).map((b) =>
      b.endsWith('ms') ? Number(b.slice(0, -2)) / 1000 : Number(b.slice(0, -1)),
    );
    expect(buckets).toEqual(seconds);
    // Pinned, so a feature gate cannot turn the series into *_duration_seconds_* under the dashboards.
    expect(config.connectors.spanmetrics.histogram.unit).toBe('ms');
  });

  it('refuses data before the container runs out of memory', () => {
    const limit = mebibytes(compose.services['otel-collector'].mem_limit);
    const { limit_mib: hard, spike_limit_mib: spike } = config.processors.memory_limiter;
    expect(hard).toBeLessThan(limit);
    // Go collects harder (GOMEMLIMIT, 80% of the hard limit) before the limiter refuses any data.
    const gomemlimit = Number.parseInt(compose.services['otel-collector'].environment.GOMEMLIMIT, 10);
    expect(gomemlimit).toBeLessThanOrEqual(hard * 0.8);
    expect(gomemlimit).toBeLessThanOrEqual(hard - spike);
  });

  it('serves its own metrics and health beyond localhost', () => {
    expect(config.extensions.health_check.endpoint).toBe('0.0.0.0:13133');
    const reader = config.service.telemetry.metrics.readers[0].pull.exporter.prometheus;
    expect([reader.host, reader.port]).toEqual(['0.0.0.0', 8888]);
  });
});

describe('observability/loki/config.yml', () => {
  const config = load('loki/config.yml');

  it('runs as one process without auth, listening where compose publishes it', () => {
    expect(config.auth_enabled).toBe(false);
    expect(config.server.http_listen_port).toBe(3100);
    expect(compose.services.loki.ports).toEqual(['127.0.0.1:3100:3100']);
    expect(config.common.replication_factor).toBe(1);
    expect(config.common.ring.kvstore.store).toBe('inmemory');
  });

  it('has what Loki 3 needs for OTLP logs: a tsdb v13 schema and structured metadata', () => {
    const [schema] = config.schema_config.configs;
    expect(schema).toMatchObject({ store: 'tsdb', schema: 'v13', object_store: 'filesystem' });
    expect(config.limits_config.allow_structured_metadata).toBe(true);
  });

  it('stores everything inside the data volume and keeps a few days only', () => {
    const volume = (compose.services.loki.volumes as string[]).find((v) => v.startsWith('loki-data:'))?.split(':')[1];
    expect(volume).toBe('/loki');
    for (const dir of [
      config.common.path_prefix,
      ...Object.values(config.common.storage.filesystem),
      config.compactor.working_directory,
    ]) {
      expect(String(dir).startsWith('/loki')).toBe(true);
    }
    expect(config.compactor.retention_enabled).toBe(true);
    expect(config.compactor.delete_request_store).toBe('filesystem');
    expect(Number.parseInt(config.limits_config.retention_period, 10)).toBeLessThanOrEqual(7 * 24);
  });
});

describe('observability/jaeger/config.yml', () => {
  const config = load('jaeger/config.yml');

  it('receives OTLP over gRPC and HTTP', () => {
    expect(config.receivers.otlp.protocols.grpc.endpoint).toBe('0.0.0.0:4317');
    expect(config.receivers.otlp.protocols.http.endpoint).toBe('0.0.0.0:4318');
    expect(config.service.pipelines.traces.receivers).toEqual(['otlp']);
  });

  it('serves the query API and UI on 16686 from a declared storage', () => {
    expect(config.service.extensions).toEqual(expect.arrayContaining(['jaeger_storage', 'jaeger_query']));
    for (const extension of config.service.extensions as string[])
      expect(config.extensions).toHaveProperty([extension]);
    expect(config.extensions.jaeger_query.http.endpoint).toBe('0.0.0.0:16686');
    const backends = Object.keys(config.extensions.jaeger_storage.backends);
    expect(backends).toContain(config.extensions.jaeger_query.storage.traces);
    expect(config.service.pipelines.traces.exporters).toEqual(['jaeger_storage_exporter']);
    expect(backends).toContain(config.exporters.jaeger_storage_exporter.trace_storage);
    for (const processor of config.service.pipelines.traces.processors as string[])
      expect(config.processors).toHaveProperty([processor]);
  });

  it('keeps a bounded number of traces in memory', () => {
    const storage = config.extensions.jaeger_storage.backends[config.extensions.jaeger_query.storage.traces];
    expect(storage.memory.max_traces).toBeGreaterThan(0);
    expect(storage.memory.max_traces).toBeLessThanOrEqual(10_000);
  });

  it('answers the healthcheck compose runs on the status endpoint it serves', () => {
    const { http } = config.extensions.healthcheckv2;
    expect(config.service.extensions).toContain('healthcheckv2');
    expect(config.extensions.healthcheckv2.use_v2).toBe(true);
    const port = http.endpoint.split(':')[1];
    expect(compose.services.jaeger.healthcheck.test.at(-1)).toBe(`http://127.0.0.1:${port}${http.status.path}`);
  });

  it('is the Jaeger whose search API the grader speaks to', () => {
    expect(compose.services.jaeger.image).toBe('jaegertracing/jaeger:2.20.0');
    expect(compose.services.jaeger.ports).toEqual(['127.0.0.1:16686:16686']);
  });
});
