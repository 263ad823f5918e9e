import path from 'node:path';
import { EVENTS_EXCHANGE } from '@shopnow/kit/amqp';
import { ROOT, type LabPaths } from './paths';

/**
 * The lite-mode plan, in one place: every process the lab runs, its port, health URL, command,
 * environment and place in the shutdown order. `lab up`, `lab status` and the end-to-end tests
 * all read it from here.
 */
export type Kind = 'service' | 'traffic' | 'webhook' | 'store' | 'prometheus' | 'alertmanager';

export interface Component {
  name: string; // process and log name: `catalog-1`
  kind: Kind;
  job: string; // Prometheus job label: the service name, `catalog` for both replicas
  port: number; // the one Prometheus scrapes and `lab status` shows
  otherPorts?: number[]; // what else it listens on (the store's OTLP receiver), for the port checks
  url: string;
  health: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  stopOrder: number; // lower stops first: traffic, gateway, services, webhook and store, alertmanager, prometheus
  schema?: { name: string; user: string; password: string };
}

export interface TopologyOptions {
  paths: LabPaths;
  env: Record<string, string>; // the values of .env
  basePort?: number; // 8080 by default; every port moves with it (18080 puts Prometheus on 19090)
  schemaPrefix?: string; // prefixes each service's schema and MySQL user
  root?: string;
}

type Need = 'mysql' | 'redis' | 'amqp' | 'jwt' | 'admin';

export interface ServiceSpec {
  name: string;
  service: string;
  port: number;
  needs: readonly Need[];
  /** Node's own flags: the same in lite mode (arguments) and in Docker (NODE_OPTIONS, generated). */
  nodeFlags: readonly string[];
  upstreams?: Readonly<Record<string, readonly string[]>>; // variable -> instances whose URLs it lists
  settings?: readonly string[]; // tunables passed on from .env when set there
  /** The queue it consumes: the variable its main.ts reads, and the name it gets by default. */
  queue?: { variable: string; name: string };
}

// V8 lets each process's young generation grow to several 16 MiB semi-spaces and keeps them;
// capped at 2 MiB a service holds ~15 MiB less (docs/benchmarks.md). The price is more frequent
// scavenges, negligible at the lab's few requests per second; `make bench` shows it under load.
// V8 also keeps the old-generation pages it freed resident for reuse, so a burst leaves RSS at its
// high-water mark; a 64 MiB old generation bounds that (the gateway after 10,000 fuzzed requests:
// 143 MB instead of 243, docs/reliability.md) and keeps a process inside its container's limit.
const NODE_FLAGS = ['--max-semi-space-size=2', '--max-old-space-size=64'];
// Except the gateway: every request passes through it and waits there on Redis and an upstream, so
// with 2 MiB semi-spaces its in-flight requests were scavenged again and again and promoted, and GC
// took ~20% of its CPU under load. 8 MiB costs it ~12 MiB idle and saves ~25% of its CPU per request
// (docs/benchmarks.md); the other services gained too little for the memory.
const GATEWAY_NODE_FLAGS = ['--max-semi-space-size=8', '--max-old-space-size=64'];
// glibc raises its mmap threshold to the size of the largest block freed so far (up to 32 MiB),
// after which big blocks come from per-thread arenas that are never given back: auth kept ~107 MiB
// of freed 16 MiB scrypt buffers after 60 logins. A fixed threshold keeps every block over 128 KiB
// in its own mapping, returned on free, for ~2 ms more per hash (docs/benchmarks.md).
export const NODE_ENV = { MALLOC_MMAP_THRESHOLD_: '131072' };

/**
 * The service manifest: the only place a service instance, its port, schema (`mysql`), queue and
 * Node flags are written. The lite lab runs it as it is; `make generate` derives the Docker side
 * from it (docker-compose.yml's per-service keys, Prometheus' compose targets, the MariaDB init list).
 */
export const SERVICES = [
  {
    name: 'auth',
    service: 'auth',
    port: 8081,
    needs: ['mysql', 'jwt', 'admin'],
    nodeFlags: NODE_FLAGS,
    settings: ['JWT_TTL_SECONDS'],
  },
  {
    name: 'catalog-1',
    service: 'catalog',
    port: 8082,
    needs: ['mysql', 'redis'],
    nodeFlags: NODE_FLAGS,
    settings: ['CACHE_TTL_SECONDS'],
  },
  {
    name: 'catalog-2',
    service: 'catalog',
    port: 8092,
    needs: ['mysql', 'redis'],
    nodeFlags: NODE_FLAGS,
    settings: ['CACHE_TTL_SECONDS'],
  },
  {
    name: 'orders',
    service: 'orders',
    port: 8083,
    needs: ['mysql', 'amqp'],
    nodeFlags: NODE_FLAGS,
    upstreams: { CATALOG_URL: ['catalog-1'], PAYMENTS_URL: ['payments'] },
    settings: ['SEED_ORDERS'],
  },
  {
    name: 'payments',
    service: 'payments',
    port: 8084,
    needs: ['mysql'],
    nodeFlags: NODE_FLAGS,
    settings: ['PROVIDER_LATENCY_MS', 'PROVIDER_DECLINE_RATE'],
  },
  {
    name: 'inventory',
    service: 'inventory',
    port: 8085,
    needs: ['mysql', 'amqp'],
    nodeFlags: NODE_FLAGS,
    queue: { variable: 'INVENTORY_QUEUE', name: 'inventory.order-created' },
  },
  {
    name: 'notifications',
    service: 'notifications',
    port: 8086,
    needs: ['mysql', 'amqp'],
    nodeFlags: NODE_FLAGS,
    queue: { variable: 'NOTIFICATIONS_QUEUE', name: 'notifications.order-events' },
  },
  {
    name: 'gateway',
    service: 'gateway',
    port: 8080,
    needs: ['redis', 'jwt'],
    nodeFlags: GATEWAY_NODE_FLAGS,
    upstreams: { AUTH_URLS: ['auth'], CATALOG_URLS: ['catalog-1', 'catalog-2'], ORDERS_URLS: ['orders'] },
    settings: ['RATE_LIMIT_POINTS', 'RATE_LIMIT_WINDOW_SECONDS', 'LISTING_RATE_LIMIT_POINTS'],
  },
] as const satisfies readonly ServiceSpec[];

/** The lab's own Node processes, beside the services: their port, script and Node flags. */
export const LAB_PROCESSES = {
  // Its whole state is the pages file; 1 MiB semi-spaces and a 32 MiB heap are plenty.
  webhook: {
    name: 'lab-webhook',
    port: 9099,
    script: 'lab/dist/components/webhook/webhook.js',
    nodeFlags: ['--max-semi-space-size=1', '--max-old-space-size=32'],
  },
  // It holds only the requests it has in flight and their counters.
  traffic: {
    name: 'traffic',
    port: 9464,
    script: 'services/traffic/dist/main.js',
    nodeFlags: ['--max-semi-space-size=2', '--max-old-space-size=48'],
  },
} as const;

/**
 * Lite mode only: the lab's telemetry store, standing in for the Docker stack's collector, Jaeger
 * and Loki (so `make generate` leaves it out of docker-compose.yml and its targets). It holds the
 * rows waiting for their batch (at most ~20k) and one query's result at a time.
 */
export const STORE = {
  name: 'lab-store',
  script: 'lab/dist/components/store/main.js',
  nodeFlags: ['--max-semi-space-size=2', '--max-old-space-size=96'],
} as const;

/**
 * The store's ports. The learner's lab (base port 8080) uses OTLP/HTTP's and Jaeger's own, 4318
 * and 16686, so that every tool's default finds it. Those two do not move with the base port like
 * the others: moved, they would leave 1..65535 (61080 + 8606) or fall below 0 (2080 - 3762), or
 * land in another lab's ports. A lab on another base port gets two of its own block instead,
 * base + 1016 and base + 1018 (beside Prometheus' 1010, Alertmanager's 1013 and the webhook's 1019).
 */
export function storePorts(basePort = 8080): { otlp: number; query: number } {
  return basePort === 8080 ? { otlp: 4318, query: 16686 } : { otlp: basePort + 1016, query: basePort + 1018 };
}

type SchemaOf<S> = S extends { service: infer N; needs: readonly (infer T)[] }
  ? 'mysql' extends T
    ? N
    : never
  : never;
export type SchemaService = SchemaOf<(typeof SERVICES)[number]>;

/** The services that own a schema, each with its `<SERVICE>_DB_PASSWORD` in .env. */
export const SCHEMA_SERVICES = [
  ...new Set(SERVICES.filter((s) => (s.needs as readonly Need[]).includes('mysql')).map((s) => s.service)),
] as SchemaService[];

/** Each consumer's queue, by service: the variable that names it and its default name. */
export const CONSUMER_QUEUES: Record<string, { variable: string; name: string }> = Object.fromEntries(
  SERVICES.flatMap((s: ServiceSpec) => (s.queue ? [[s.service, s.queue]] : [])),
);

/** The consumers' queues by the variable that names them; their dead-letter queues are `<queue>.dlq`. */
export const QUEUES: Record<string, string> = Object.fromEntries(
  Object.values(CONSUMER_QUEUES).map((q) => [q.variable, q.name]),
);

/** The exchange and queues of a lab whose schemas carry `prefix` (the services' defaults otherwise). */
export function brokerNames(prefix: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries({ EVENTS_EXCHANGE, ...QUEUES }).map(([variable, name]) => [variable, `${prefix}${name}`]),
  );
}

const HOST = '127.0.0.1';

/**
 * What an instance's environment says about its place in the manifest, in either mode: its
 * OpenTelemetry identity, its replica id, and the addresses of its upstreams (`urlOf` an instance).
 */
export function wiringEnv(
  spec: ServiceSpec,
  version: string,
  urlOf: (instance: string) => string,
): Record<string, string> {
  const env: Record<string, string> = {
    OTEL_SERVICE_NAME: spec.service,
    OTEL_RESOURCE_ATTRIBUTES: `service.version=${version},service.instance.id=${spec.name}`,
  };
  if (spec.service === 'catalog') env.INSTANCE_ID = spec.name;
  for (const [key, instances] of Object.entries(spec.upstreams ?? {})) env[key] = instances.map(urlOf).join(',');
  return env;
}

export function components(options: TopologyOptions): Component[] {
  const { paths, env } = options;
  const root = options.root ?? ROOT;
  const shift = (options.basePort ?? 8080) - 8080;
  const store = storePorts(options.basePort);
  const storeUrl = `http://${HOST}:${store.query}`;
  const prefix = options.schemaPrefix ?? '';
  const url = (port: number) => `http://${HOST}:${port + shift}`;
  const portOf: Record<string, number> = Object.fromEntries(SERVICES.map((s) => [s.name, s.port]));
  const instanceUrl = (name: string) => url(portOf[name]);
  const node = process.execPath;
  const common = { ...NODE_ENV, HOST, LOG_LEVEL: env.LOG_LEVEL ?? 'info' };

  const service = (spec: ServiceSpec): Component => {
    const version = env.SERVICE_VERSION ?? '1.0.0';
    const schema = `${prefix}${spec.service}`;
    const password = env[`${spec.service.toUpperCase()}_DB_PASSWORD`] ?? '';
    const serviceEnv: Record<string, string> = {
      ...common,
      PORT: String(spec.port + shift),
      SERVICE_VERSION: version,
      ...wiringEnv(spec, version, instanceUrl),
      LAB_TOKEN: env.LAB_TOKEN ?? '',
      // Spans and log records go to the lab's store over OTLP/HTTP (without it the kit drops spans).
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://${HOST}:${store.otlp}`,
    };
    const needs = new Set(spec.needs);
    if (needs.has('mysql')) serviceEnv.MYSQL_URL = `mysql://${schema}:${password}@${HOST}:3306/${schema}`;
    if (needs.has('mysql')) Object.assign(serviceEnv, pick(env, ['MYSQL_POOL_SIZE']));
    if (needs.has('redis')) serviceEnv.REDIS_URL = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    if (needs.has('amqp')) serviceEnv.AMQP_URL = env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
    // Labs side by side on one RabbitMQ (the tests run several) must not consume each other's events.
    if (needs.has('amqp') && prefix) Object.assign(serviceEnv, brokerNames(prefix));
    // ... nor share a cache entry or a rate-limit counter on one Redis.
    if (needs.has('redis') && prefix) serviceEnv.REDIS_KEY_PREFIX = prefix;
    if (needs.has('jwt')) serviceEnv.JWT_SECRET = env.JWT_SECRET ?? '';
    if (needs.has('admin')) Object.assign(serviceEnv, pick(env, ['ADMIN_EMAIL', 'ADMIN_PASSWORD']));
    Object.assign(serviceEnv, pick(env, spec.settings ?? []));
    return {
      name: spec.name,
      kind: 'service',
      job: spec.service,
      port: spec.port + shift,
      url: url(spec.port),
      health: `${url(spec.port)}/health/ready`,
      command: node,
      args: [
        ...spec.nodeFlags,
        '--require',
        path.join(root, 'services/kit/dist/telemetry.js'),
        path.join(root, `services/${spec.service}/dist/main.js`),
      ],
      env: serviceEnv,
      stopOrder: spec.service === 'gateway' ? 1 : 2,
      schema: needs.has('mysql') ? { name: schema, user: schema, password } : undefined,
    };
  };

  const listen = (port: number) => `${HOST}:${port + shift}`;
  const { webhook, traffic } = LAB_PROCESSES;
  return [
    {
      name: 'prometheus',
      kind: 'prometheus',
      job: 'prometheus',
      port: 9090 + shift,
      url: url(9090),
      health: `${url(9090)}/-/ready`,
      command: 'prometheus',
      args: [
        `--config.file=${path.join(paths.prometheus, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(paths.prometheus, 'data')}`,
        `--web.listen-address=${listen(9090)}`,
        '--enable-feature=exemplar-storage',
        '--web.enable-remote-write-receiver',
        '--web.enable-lifecycle',
      ],
      env: {},
      stopOrder: 5,
    },
    {
      name: 'alertmanager',
      kind: 'alertmanager',
      job: 'alertmanager',
      port: 9093 + shift,
      url: url(9093),
      health: `${url(9093)}/-/ready`,
      command: 'prometheus-alertmanager',
      args: [
        `--config.file=${path.join(paths.alertmanager, 'alertmanager.yml')}`,
        `--storage.path=${path.join(paths.alertmanager, 'data')}`,
        `--web.listen-address=${listen(9093)}`,
        // Empty: a single Alertmanager, with no gossip port to collide with anything.
        '--cluster.listen-address=',
      ],
      env: {},
      stopOrder: 4,
    },
    {
      name: 'lab-webhook',
      kind: 'webhook',
      job: 'lab-webhook',
      port: webhook.port + shift,
      url: url(webhook.port),
      health: `${url(webhook.port)}/health/ready`,
      command: node,
      args: [...webhook.nodeFlags, path.join(root, webhook.script)],
      env: { ...NODE_ENV, HOST, PORT: String(webhook.port + shift), PAGES_FILE: paths.pages },
      stopOrder: 3,
    },
    {
      name: STORE.name,
      kind: 'store',
      job: STORE.name,
      port: store.query, // its /metrics and health are on the query port too
      otherPorts: [store.otlp],
      url: storeUrl,
      health: `${storeUrl}/health/ready`,
      command: node,
      args: [...STORE.nodeFlags, path.join(root, STORE.script)],
      env: {
        ...NODE_ENV,
        STORE_OTLP_HOST: HOST,
        STORE_OTLP_PORT: String(store.otlp),
        STORE_QUERY_HOST: HOST,
        STORE_QUERY_PORT: String(store.query),
        STORE_DB: path.join(paths.store, 'telemetry.db'),
        ...pick(env, ['STORE_RETENTION_MINUTES', 'STORE_MAX_MB']),
      },
      // Up before the services export to it, down after their last export.
      stopOrder: 3,
    },
    ...SERVICES.map(service),
    {
      name: 'traffic',
      kind: 'traffic',
      job: 'traffic',
      port: traffic.port + shift,
      url: url(traffic.port),
      health: `${url(traffic.port)}/health/ready`,
      command: node,
      args: [...traffic.nodeFlags, path.join(root, traffic.script)],
      env: {
        ...NODE_ENV,
        GATEWAY_URL: url(portOf.gateway),
        TRAFFIC_PORT: String(traffic.port + shift),
        TRAFFIC_RATE: env.TRAFFIC_RATE ?? '5',
        TRAFFIC_PROFILE: env.TRAFFIC_PROFILE ?? 'default',
      },
      stopOrder: 0,
    },
  ];
}

function pick(env: Record<string, string>, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(keys.filter((key) => env[key] !== undefined).map((key) => [key, env[key]]));
}
