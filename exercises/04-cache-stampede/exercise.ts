/**
 * Caching: the catalog's product cache (cache-aside over Redis, shared by both replicas) stops
 * working in one of three ways, drawn at random: it is skipped, it caches with TTL 0, or it
 * writes under other keys than it reads. Every product read becomes a MySQL query; the learner
 * tells which of the three it is from the cache metrics and Redis itself, then rolls the
 * replicas (lab restart) to drop the bad runtime setting.
 */
import { defineExercise } from 'lab/exercise-api';

const MODES = ['bypass', 'ttl-zero', 'wrong-key'] as const;
type Mode = (typeof MODES)[number];

/** The catalog's product cache, counted by every replica (result: hit, miss, error). */
const LOOKUPS = 'job="catalog",cache="products"';

export default defineExercise<{ mode: Mode }>({
  id: '04',
  slug: 'cache-stampede',
  title: 'Every read goes to MySQL',
  topics: ['caching with Redis (cache-aside)', 'cache hit ratio and TTLs', 'database per service'],
  signals: ['metrics', 'alerts'],
  modes: ['full', 'lite'],

  async setup(ctx, rng) {
    const mode = rng.pick(MODES);
    // On the service, so on both replicas: the cache is shared, and so is the bad setting.
    await ctx.faults.inject({ name: 'cache-bypass', service: 'catalog', options: { mode } });
    return { mode };
  },

  answers: {
    mode: {
      prompt:
        'how the cache is broken: bypass (never asked), ttl-zero (asked, never filled) or wrong-key (filled under other keys)',
      example: 'bypass',
      // "TTL 0", "ttl_zero" and "wrong key" name the same behaviours.
      normalise: (value) =>
        value
          .trim()
          .toLowerCase()
          .replace(/[\s_]+/g, '-')
          .replace(/^ttl-?0$/, 'ttl-zero'),
      pattern: /^(bypass|ttl[\s_-]?(zero|0)|wrong[\s_-]?key)$/i,
      expected: (target) => target.mode,
    },
  },

  fix: [
    {
      name: 'hit-ratio',
      description: 'more than half of the catalog product cache lookups are hits',
      query: `(sum(rate(cache_requests_total{${LOOKUPS},result="hit"}[$window])) or vector(0))
        / sum(rate(cache_requests_total{${LOOKUPS}}[$window])) > 0.5`,
    },
  ],

  async solve(ctx, target) {
    await ctx.answer({ mode: target.mode });
    // The setting lives in each replica's memory: a rolling restart, one replica at a time.
    for (const instance of ctx.instances.filter((i) => i.service === 'catalog')) await ctx.restart(instance.name);
  },
});
