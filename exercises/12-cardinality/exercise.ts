/**
 * A high-cardinality label: one service's request histogram is labelled with the raw path
 * (`/products/4711`) instead of the route template (`/products/:id`), so every product id a
 * customer opens becomes a time series of its own (a debug switch flipped at runtime). The
 * learner finds the service and the label and redeploys its instances (lab restart): a fresh
 * process labels by route template again, and lets go of every series the old one created.
 */
import { defineExercise } from 'lab/exercise-api';

/** The services whose traffic carries ids in its paths: product pages at the gateway and at catalog. */
const WITH_IDS = ['gateway', 'catalog'];
/**
 * Measured in lite mode: without the fault a job exports 6-30 request-duration series (routes x
 * methods x status classes x instances); with it, 80-100 after 30 s of traffic, growing with
 * every product opened. 50 tells them apart with room on both sides.
 */
const MAX_SERIES = 50;

interface Target {
  service: string;
  instances: string[];
}

export default defineExercise<Target>({
  id: '12',
  slug: 'cardinality',
  title: 'The exploding label',
  topics: ['monitoring and alerting', 'metric cardinality', 'the cost of instrumentation'],
  signals: ['metrics'],
  modes: ['full', 'lite'],

  async setup(ctx, rng) {
    const service = rng.pick(WITH_IDS);
    await ctx.faults.inject({ name: 'high-cardinality', service });
    const instances = ctx.instances.filter((i) => i.service === service).map((i) => i.name);
    return { service, instances };
  },

  answers: {
    service: {
      prompt: 'the service whose series exploded',
      example: 'payments',
      // An instance name (catalog-2) names its service too.
      normalise: (value) => value.trim().toLowerCase().replace(/-\d+$/, ''),
      pattern: /^[a-z]+$/,
      expected: (target) => target.service,
    },
    label: {
      prompt: 'the label whose values exploded',
      example: 'status_class',
      pattern: /^[a-z_]+$/,
      expected: () => 'route',
    },
  },

  fix: [
    {
      name: 'series',
      description: `every job exports fewer than ${MAX_SERIES} series of http_server_request_duration_seconds_count`,
      // An instant count at every step: a series that stops being scraped is marked stale at the
      // next scrape and leaves the count at once; the window only asks that it stayed gone.
      query: `max_over_time(max(count by (job) (http_server_request_duration_seconds_count))[$window:5s]) < ${MAX_SERIES}`,
    },
  ],

  async solve(ctx, target) {
    await ctx.answer({ service: target.service, label: 'route' });
    for (const instance of target.instances) {
      // A fresh process: the route template again, and none of the series already created.
      await ctx.restart(instance);
    }
  },
});
