/**
 * The capstone: two faults at once, drawn from a pool of realistic pairs. One breaks checkout
 * (the SLO pages); the other is a separate problem building up elsewhere (a leak, a log flood).
 * The learner names each cause (instance and kind), shows a failed checkout's trace, and puts
 * both right with the action that fits each: a restart or a rollback. Fixing one leaves the
 * other's fix condition failing.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { defineExercise, instanceAnswer, type ExerciseContext } from 'lab/exercise-api';

/** The kinds a learner may name: the names `lab fault list` uses, for the faults this exercise draws. */
const KINDS = [
  'errors',
  'latency',
  'slow-provider',
  'bad-release',
  'dependency-unreachable',
  'memory-leak',
  'log-flood',
] as const;
type Kind = (typeof KINDS)[number];

interface Draw {
  instance: string;
  fault: Kind;
  options: Record<string, unknown>;
}

/**
 * What breaks checkout. Orders prices every line at catalog-1 (its CATALOG_URL, in both modes),
 * so a fault on that replica reaches checkout and one on catalog-2 does not. Each fails a large
 * share of checkouts: slow-provider at 1.8 s (0.9-2.7 s a charge) runs ~40% of them past orders'
 * 2 s payments timeout and nearly all past 1 s.
 */
const CHECKOUT_CAUSES: Array<Draw & { liteOnly?: true }> = [
  { instance: 'payments', fault: 'slow-provider', options: { ms: 1_800 } },
  { instance: 'catalog-1', fault: 'errors', options: { status: 500, share: 0.5, pathPrefix: '/products' } },
  { instance: 'catalog-1', fault: 'latency', options: { ms: 1_500, pathPrefix: '/products' } },
  { instance: 'orders', fault: 'dependency-unreachable', options: { dependency: 'payments' } },
  // A deploy of another release goes through the lite-mode supervisor only.
  { instance: 'orders', fault: 'bad-release', options: { errorShare: 0.5 }, liteOnly: true },
];

/** Leak sizes from exercise 08: each of these instances grows 1.5-2.5 MB/s at the default traffic. */
const LEAKS: Record<string, number> = { gateway: 393_216, 'catalog-2': 1_048_576, auth: 3_145_728 };

/**
 * The second fault, on an instance checkout does not need. (A dropped index is left to exercise 03:
 * the order history is asked for a few times a minute, too rarely for a short window to see it.)
 */
const OTHER_CAUSES: Draw[] = [
  ...Object.entries(LEAKS).map(([instance, bytesPerRequest]) => ({
    instance,
    fault: 'memory-leak' as const,
    options: { bytesPerRequest },
  })),
  ...Object.keys(LEAKS).map((instance) => ({
    instance,
    fault: 'log-flood' as const,
    options: { linesPerRequest: 20 },
  })),
];

/** POST /api/orders at the gateway: what the checkout SLOs count (slo.rules.yml). */
const CHECKOUT = 'job="gateway",route="/api/orders",method="POST"';
const SERVICES = 'job=~"gateway|auth|catalog|orders|payments|inventory|notifications"';
/** The instances a log flood is drawn on: steady HTTP traffic, so lines per request is a fair measure. */
const LOGGERS = 'job=~"gateway|catalog|auth"';
/** Exercise 08's measure: an instance without a leak moves by up to ~200 kB/s, a leaking one 0.9 MB/s and more. */
const MAX_GROWTH = 524_288;
/** Measured: 1-2 lines per request on every instance; a flood writes 20 more. */
const MAX_LINES_PER_REQUEST = 10;

interface Cause {
  instance: string;
  fault: Kind;
  /** Its `instance` label: `127.0.0.1:8082` in lite mode, `catalog-1:8082` in Docker. */
  labels: string[];
}

interface Target {
  checkout: Cause;
  other: Cause;
}

function causeOf(ctx: ExerciseContext, { instance, fault }: Draw): Cause {
  return { instance, fault, labels: ctx.instanceLabels(instance) };
}

async function inject(ctx: ExerciseContext, { instance, fault, options }: Draw) {
  await ctx.faults.inject({ name: fault, instance, options });
}

/** What an operator does for each kind: a fresh process, or the planned release. */
async function putRight(ctx: ExerciseContext, cause: Cause) {
  if (cause.fault === 'bad-release') await ctx.rollback(cause.instance);
  else await ctx.restart(cause.instance);
}

/**
 * A checkout placed in a trace of our own until one fails with a 5xx that orders gave: its trace
 * id. The gateway marks what it relays with x-upstream-instance; a 5xx without it is the gateway's
 * own (its breaker open while a bad release fails half the checkouts, orders unreachable or too
 * slow): then wait as long as a Retry-After says, or a moment, and try again.
 */
async function failedCheckout(ctx: ExerciseContext): Promise<string> {
  const gateway = ctx.instances.find((i) => i.service === 'gateway')?.url;
  const customer = await ctx.shop.customer();
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    // The product list may fail too (a broken catalog replica): try again.
    const products = await ctx.shop.products(1).catch(() => []);
    if (!products.length) {
      await sleep(200);
      continue;
    }
    const traceId = randomBytes(16).toString('hex');
    const res = await fetch(`${gateway}/api/orders`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${customer.token}`,
        'idempotency-key': randomBytes(12).toString('hex'),
        traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
      },
      body: JSON.stringify({ items: [{ productId: products[0].id, quantity: 1 }] }),
      signal: AbortSignal.timeout(15_000),
    });
    await res.arrayBuffer();
    if (res.status < 500) continue;
    if (res.headers.has('x-upstream-instance')) return traceId;
    await sleep(Number(res.headers.get('retry-after') ?? '1') * 1_000);
  }
  throw new Error('no checkout failed at orders within 90 s: is the checkout fault in force?');
}

const instanceOf = (which: keyof Target, what: string) =>
  instanceAnswer<Target>(
    `the instance ${what}: its name (catalog-1, payments) or its instance label (127.0.0.1:8082)`,
    'catalog-2',
    (target) => [target[which].instance, ...target[which].labels],
  );

const kindAnswer = (which: keyof Target, what: string) => ({
  prompt: `the kind of ${what}, one of: ${KINDS.join(', ')}`,
  example: 'latency',
  // "slow provider" and "memory_leak" name the same kinds.
  normalise: (value: string) =>
    value
      .trim()
      .toLowerCase()
      .replace(/[\s_]+/g, '-'),
  pattern: /^[a-z]+(-[a-z]+)*$/,
  expected: (target: Target) => target[which].fault,
});

/** A gateway answer of 500-504, as its log line writes it (lite) and as Jaeger tags it. */
const FAILED = [500, 502, 503, 504].flatMap((status) => [`"status":${status}`, `"value":${status}}`]);

export default defineExercise<Target>({
  id: '16',
  slug: 'capstone',
  title: 'Two faults at once',
  topics: ['monitoring and alerting', 'SLOs and error budgets', 'distributed tracing', 'deployments and rollbacks'],
  signals: ['alerts', 'metrics', 'traces', 'logs'],
  modes: ['full', 'lite'],

  async setup(ctx, rng) {
    const checkout = rng.pick(CHECKOUT_CAUSES.filter((c) => ctx.mode === 'lite' || !c.liteOnly));
    const other = rng.pick(OTHER_CAUSES);
    await inject(ctx, checkout);
    await inject(ctx, other);
    return { checkout: causeOf(ctx, checkout), other: causeOf(ctx, other) };
  },

  answers: {
    'checkout-instance': instanceOf('checkout', 'whose fault breaks checkout'),
    'checkout-fault': kindAnswer('checkout', 'fault that breaks checkout'),
    'other-instance': instanceOf('other', 'of the second fault'),
    'other-fault': kindAnswer('other', 'the second fault'),
    trace: {
      prompt: 'the trace id of a checkout that failed (32 hexadecimal digits)',
      example: '4bf92f3577b34da6a3ce929d0e0e4736',
      pattern: /^[0-9a-f]{32}$/,
    },
  },

  evidence: [
    {
      answer: 'trace',
      description: 'the trace id of a checkout (POST /api/orders) the gateway answered with a 5xx',
      verify(trace) {
        const atGateway = (text: string) => trace.mentions(text, 'gateway');
        if (!atGateway('/api/orders') || !atGateway('POST'))
          return `trace ${trace.traceId} is not a POST /api/orders at the gateway`;
        if (!FAILED.some(atGateway))
          return `in trace ${trace.traceId} the gateway did not answer the checkout with a 5xx: pick one that failed`;
        // The gateway answers some checkouts itself; their traces end there and cannot show the cause.
        if (atGateway('CIRCUIT_OPEN'))
          return `in trace ${trace.traceId} the gateway's circuit breaker answered without calling orders: pick a failed checkout that reached orders`;
        if (!trace.services.includes('orders'))
          return `in trace ${trace.traceId} the gateway answered without orders (it could not reach it, or gave up waiting): pick a failed checkout that reached orders`;
        return undefined;
      },
    },
  ],

  fix: [
    {
      name: 'checkout-slo',
      description:
        'the checkout SLOs hold at the gateway: under 0.5% of POST /api/orders answered 5xx, under 1% slower than 1 s',
      // The 1 s bucket by regex: Prometheus 3 writes le="1.0" where 2.x wrote le="1".
      query: `(sum(rate(http_server_request_duration_seconds_count{${CHECKOUT},status_class="5xx"}[$window])) or vector(0))
          / sum(rate(http_server_request_duration_seconds_count{${CHECKOUT}}[$window])) < 0.005
        and on() (1 - sum(rate(http_server_request_duration_seconds_bucket{${CHECKOUT},le=~"1|1[.]0"}[$window]))
          / sum(rate(http_server_request_duration_seconds_count{${CHECKOUT}}[$window]))) < 0.01`,
    },
    {
      // Every symptom the second fault can show, on every instance: which one failed is not told.
      name: 'second-symptom',
      description: `the second problem is gone: no instance's memory grows over ${MAX_GROWTH / 1024} KiB/s, none writes over ${MAX_LINES_PER_REQUEST} log lines per request`,
      query: `max(deriv(process_resident_memory_bytes{${SERVICES}}[$window])) < ${MAX_GROWTH}
        and on() max(sum by (instance) (rate(log_messages_total{${LOGGERS}}[$window]))
          / sum by (instance) (rate(http_server_request_duration_seconds_count{${LOGGERS}}[$window]))) < ${MAX_LINES_PER_REQUEST}`,
    },
  ],

  async solve(ctx, target) {
    const trace = await failedCheckout(ctx);
    await ctx.answer({
      'checkout-instance': target.checkout.instance,
      'checkout-fault': target.checkout.fault,
      'other-instance': target.other.instance,
      'other-fault': target.other.fault,
      trace,
    });
    await putRight(ctx, target.checkout);
    await putRight(ctx, target.other);
  },
});
