import { z } from 'zod';

/**
 * Every fault the lab can inject, in one place: the fault engine validates options with it, the
 * CLI lists it (`lab fault list`), the exercises and the docs name faults from it. A fault either
 * acts inside a service (switched at runtime through the service's admin endpoint, read at one
 * `// FAULT(<name>)` branch in real code) or is carried out by the lab itself (DDL, a publish,
 * a deploy, a traffic profile).
 */
const share = z.number().min(0).max(1);
const pathPrefix = z.string().startsWith('/').max(200).optional();

export const FAULTS = {
  latency: {
    description: 'Adds a delay before a share of requests is handled (a slow handler).',
    where: 'service',
    services: 'any',
    options: z.strictObject({
      ms: z.number().int().min(1).max(30_000).default(500),
      pathPrefix,
      share: share.default(1),
    }),
  },
  errors: {
    description: 'Answers a share of requests with a 5xx before the handler runs (a broken code path).',
    where: 'service',
    services: 'any',
    options: z.strictObject({
      status: z.union([z.literal(500), z.literal(502), z.literal(503)]).default(500),
      pathPrefix,
      share: share.default(0.5),
    }),
  },
  'event-loop-block': {
    description:
      'Does CPU-bound synchronous work on a share of requests, blocking the event loop for every other request.',
    where: 'service',
    services: 'any',
    options: z.strictObject({
      ms: z.number().int().min(5).max(2_000).default(150),
      pathPrefix,
      share: share.default(1),
    }),
  },
  'memory-leak': {
    description: 'Keeps a buffer alive for every request handled (a cache that is never evicted).',
    where: 'service',
    services: 'any',
    options: z.strictObject({ bytesPerRequest: z.number().int().min(1_024).max(10_485_760).default(262_144) }),
  },
  'log-flood': {
    description: 'Writes many verbose info lines for every request (debug logging left on in production).',
    where: 'service',
    services: 'any',
    options: z.strictObject({ linesPerRequest: z.number().int().min(1).max(200).default(40) }),
  },
  'high-cardinality': {
    description: 'Labels the request-duration histogram with the raw path instead of the route template.',
    where: 'service',
    services: 'any',
    options: z.strictObject({}),
  },
  'pool-shrink': {
    description: "Shrinks the service's MySQL connection pool, so requests queue for a connection.",
    where: 'service',
    services: ['auth', 'catalog', 'orders', 'payments', 'inventory', 'notifications'],
    options: z.strictObject({ size: z.number().int().min(1).max(5).default(1) }),
  },
  'dependency-unreachable': {
    description: 'Points a client at a wrong address (a bad config push): every call to that dependency fails.',
    where: 'service',
    services: ['orders'],
    options: z.strictObject({ dependency: z.enum(['catalog', 'payments']).default('payments') }),
  },
  'cache-bypass': {
    description: 'Breaks the product cache: skip it, cache with TTL 0, or read and write under different keys.',
    where: 'service',
    services: ['catalog'],
    options: z.strictObject({ mode: z.enum(['bypass', 'ttl-zero', 'wrong-key']).default('ttl-zero') }),
  },
  'consumer-stall': {
    description: 'Makes a queue consumer stall (hold messages unacked), slow down, or crash mid-message.',
    where: 'service',
    services: ['inventory', 'notifications'],
    options: z.strictObject({
      mode: z.enum(['stalled', 'slow', 'crash']).default('slow'),
      delayMs: z.number().int().min(1).max(60_000).default(2_000),
    }),
  },
  'broken-propagation': {
    description: 'The outbox relay publishes without the stored trace context: consumers start new traces.',
    where: 'service',
    services: ['orders'],
    options: z.strictObject({}),
  },
  'slow-provider': {
    description: 'The payment provider answers slowly.',
    where: 'service',
    services: ['payments'],
    options: z.strictObject({ ms: z.number().int().min(1).max(30_000).default(1_500) }),
  },
  'retry-storm': {
    description: 'The gateway retries every failed request, more times, without its retry budget.',
    where: 'service',
    services: ['gateway'],
    options: z.strictObject({ attempts: z.number().int().min(2).max(10).default(5) }),
  },
  'dropped-index': {
    description: "Drops the index that serves a customer's order history on the 200,000-row orders table.",
    where: 'lab',
    services: ['orders'],
    options: z.strictObject({}),
  },
  'poison-message': {
    description:
      'Publishes messages consumers cannot process to the events exchange: for both consumers, or for --service only.',
    where: 'lab',
    services: ['inventory', 'notifications'],
    options: z
      .strictObject({
        count: z.number().int().min(1).max(100).default(1),
        // Comma-separated so that `--set messageIds=a,b` works; random ids when left out.
        messageIds: z
          .string()
          .regex(/^[\w.:-]{1,100}(,[\w.:-]{1,100})*$/)
          .optional(),
      })
      .refine((o) => o.messageIds === undefined || o.messageIds.split(',').length === o.count, {
        message: 'messageIds must list as many ids as count',
        path: ['messageIds'],
      }),
  },
  'bad-release': {
    description: 'Deploys version 2.0.0 of a service to one instance; that release fails a share of requests.',
    where: 'lab',
    services: 'any',
    options: z.strictObject({ errorShare: share.default(0.3) }),
  },
  'noisy-client': {
    description: 'A client with one API key floods the product listings.',
    where: 'lab',
    services: ['gateway'],
    options: z.strictObject({
      rate: z.number().int().min(1).max(500).default(100),
      // The key it sends; the traffic profiles' own when left out.
      apiKey: z
        .string()
        .regex(/^[A-Za-z0-9._-]{8,64}$/)
        .optional(),
    }),
  },
} as const;

export type FaultName = keyof typeof FAULTS;
export type FaultOptions<N extends FaultName> = z.infer<(typeof FAULTS)[N]['options']>;

export const FAULT_NAMES = Object.keys(FAULTS) as FaultName[];

export function isFaultName(name: string): name is FaultName {
  return Object.hasOwn(FAULTS, name);
}

export function appliesTo(name: FaultName, service: string): boolean {
  const { services } = FAULTS[name];
  return services === 'any' || (services as readonly string[]).includes(service);
}
