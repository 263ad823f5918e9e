/**
 * Saturation: one service's MySQL connection pool is shrunk at runtime (which service, and to
 * how many connections, drawn at random). Its queries queue for a connection; the learner finds
 * the pool from the saturation metrics (used against max, waiting requests) and restarts the
 * service so it opens its pool at the configured size again.
 */
import { defineExercise } from 'lab/exercise-api';

const SERVICES = ['orders', 'catalog', 'auth'] as const;
const POOLS = `job=~"${SERVICES.join('|')}"`;
/** pool-shrink sizes a pool 1-5 connections; every pool's configured size (MYSQL_POOL_SIZE) is 10. */
const SHRUNK = 5;
/**
 * Generous on purpose: on a shared 2-core machine auth's p95 (bcrypt) reached 1.7 s without any
 * fault. A pool of one connection holds requests for seconds once a burst queues behind it.
 */
const P95_SECONDS = 2.5;

interface Target {
  service: (typeof SERVICES)[number];
  size: number;
}

export default defineExercise<Target>({
  id: '05',
  slug: 'pool-saturation',
  title: 'Waiting for a connection',
  topics: ['database per service', 'connection pools and saturation', 'the USE method'],
  signals: ['metrics', 'alerts'],
  modes: ['full', 'lite'],

  async setup(ctx, rng) {
    const service = rng.pick(SERVICES);
    const size = rng.int(1, 3);
    await ctx.faults.inject({ name: 'pool-shrink', service, options: { size } });
    return { service, size };
  },

  answers: {
    service: {
      prompt: 'the service whose MySQL pool is saturated',
      example: 'payments',
      pattern: /^[a-z]+(-\d+)?$/,
      // A replica's name (catalog-2) names its service.
      normalise: (value) => value.trim().toLowerCase().replace(/-\d+$/, ''),
      expected: (target) => target.service,
    },
    max: {
      prompt: 'the most connections that pool may open now',
      example: '10',
      pattern: /^\d+$/,
      normalise: (value) => String(Number(value.trim())),
      expected: (target) => String(target.size),
    },
  },

  fix: [
    {
      name: 'pool-size',
      description: `every MySQL pool of ${SERVICES.join(', ')} may open more than ${SHRUNK} connections`,
      query: `min(min_over_time(db_client_connection_max{${POOLS}}[$window])) > ${SHRUNK}`,
    },
    {
      name: 'pending',
      description: `no query of ${SERVICES.join(', ')} waited for a connection`,
      query: `max(max_over_time(db_client_connection_pending_requests{${POOLS}}[$window])) == 0`,
    },
    {
      name: 'p95',
      description: `the p95 of the requests to each of ${SERVICES.join(', ')} is under ${P95_SECONDS} s`,
      query: `max(histogram_quantile(0.95, sum by (job, le) (rate(http_server_request_duration_seconds_bucket{${POOLS}}[$window])))) < ${P95_SECONDS}`,
    },
  ],

  async solve(ctx, target) {
    await ctx.answer({ service: target.service, max: String(target.size) });
    // The shrunk limit lives in the process; a fresh one opens its pool at the configured size.
    for (const instance of ctx.instances.filter((i) => i.service === target.service)) await ctx.restart(instance.name);
  },
});
