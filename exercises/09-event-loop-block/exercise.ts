/**
 * A blocked event loop: one service does CPU-bound work synchronously on every request to one
 * route, and while it runs nothing else in that process does. The learner finds the service and
 * the route from the event loop lag and the latency per route. The feature flag that switched the
 * work on was flipped at runtime, in the processes: redeploying that service's instances
 * (`lab restart`, each) starts them from their configuration, where it is off.
 */
import { defineExercise } from 'lab/exercise-api';

/** Where the work can land: a service, the path prefix it acts on, and the route template that matches it. */
const SPOTS = [
  { service: 'catalog', pathPrefix: '/products/search', route: '/products/search' },
  { service: 'auth', pathPrefix: '/auth/me', route: '/auth/me' },
  { service: 'orders', pathPrefix: '/orders', route: '/orders' },
  { service: 'gateway', pathPrefix: '/api/products/search', route: '/api/products/search' },
  { service: 'gateway', pathPrefix: '/api/auth/me', route: '/api/auth/me' },
] as const;
/** Each request to the route spends this long on the CPU, and keeps every other request waiting as long. */
const BLOCK_MS = 300;
/** Their GET routes: the ones the fix measures. */
const ROUTES = 'route=~"/products/search|/auth/me|/orders|/api/products/search|/api/auth/me",method="GET"';
const SERVICES = 'job=~"gateway|auth|catalog|orders|payments|inventory|notifications"';
const MAX_LAG_SECONDS = 0.05;
/**
 * Measured in lite mode: without the fault these routes' p95 stays under 0.05 s; with it, the
 * blocked route (and its view from the gateway) is at 0.49 s. The event loop lag p99 stays near
 * 13 ms either way: a few 300 ms waits are under 1% of the loop's samples (the max shows them),
 * so the lag condition guards against a new block and the p95 is what the fault fails.
 */
const P95_SECONDS = 0.2;

/** `GET /api/products/search` and `/products/search` name one route: compared without method and /api. */
const routeForm = (value: string) =>
  value
    .trim()
    .toLowerCase()
    .replace(/^(get|post|put|delete)\s+/, '')
    .replace(/^\/api(?=\/)/, '');

interface Target {
  service: string;
  route: string;
}

export default defineExercise<Target>({
  id: '09',
  slug: 'event-loop-block',
  title: 'One route stalls the process',
  topics: ['monitoring and alerting', 'the Node.js event loop', 'latency percentiles'],
  signals: ['metrics', 'traces'],
  modes: ['full', 'lite'],

  async setup(ctx, rng) {
    const spot = rng.pick(SPOTS);
    await ctx.faults.inject({
      name: 'event-loop-block',
      service: spot.service,
      options: { ms: BLOCK_MS, pathPrefix: spot.pathPrefix, share: 1 },
    });
    return { service: spot.service, route: spot.route };
  },

  answers: {
    service: {
      prompt: 'the service whose event loop is blocked',
      example: 'payments',
      normalise: (value) => value.trim().toLowerCase().replace(/-\d+$/, ''),
      pattern: /^[a-z]+$/,
      expected: (target) => target.service,
    },
    route: {
      prompt: 'the route whose requests block it (its template at that service)',
      example: 'GET /payments/:id',
      normalise: routeForm,
      pattern: /^\/[a-z0-9/:_-]*$/,
      expected: (target) => routeForm(target.route),
    },
  },

  fix: [
    {
      name: 'event-loop-lag',
      description: `the event loop lag p99 of every ShopNow instance averages under ${MAX_LAG_SECONDS * 1000} ms`,
      query: `max(avg_over_time(nodejs_eventloop_lag_p99_seconds{${SERVICES}}[$window])) < ${MAX_LAG_SECONDS}`,
    },
    {
      name: 'route-p95',
      description: `the p95 of the routes that could block (GET ${['/products/search', '/auth/me', '/orders'].join(', ')}, at their service and at the gateway) is under ${P95_SECONDS} s`,
      query: `max(histogram_quantile(0.95, sum by (job, route, le) (rate(http_server_request_duration_seconds_bucket{${ROUTES}}[$window])))) < ${P95_SECONDS}`,
    },
  ],

  async solve(ctx, target) {
    await ctx.answer({ service: target.service, route: `GET ${target.route}` });
    // Each instance of the service redeployed from its configuration, one at a time.
    for (const instance of ctx.instances.filter((i) => i.service === target.service)) await ctx.restart(instance.name);
  },
});
