/**
 * Load balancing: one of the two catalog replicas answers half of its requests with a 500. The
 * gateway spreads product requests over both, so the errors look random from outside; the
 * learner must find the replica and take the fault out of it (restart it).
 */
import { defineExercise } from 'lab/exercise-api';

interface Target {
  instance: string;
}

/** The gateway's product routes: /api/products, /api/products/search, /api/products/:id. */
const PRODUCTS = 'job="gateway",route=~"/api/products.*"';

export default defineExercise<Target>({
  id: '02',
  slug: 'bad-replica',
  title: 'One bad replica',
  topics: ['load balancing over replicas', 'the API gateway', 'RED metrics'],
  signals: ['metrics', 'logs', 'traces'],
  modes: ['full', 'lite'],

  async setup(ctx, rng) {
    const replicas = ctx.instances.filter((i) => i.service === 'catalog').map((i) => i.name);
    const instance = rng.pick(replicas);
    // A 500 is not retried by the gateway (only 502-504 are): every one reaches the customer.
    await ctx.faults.inject({ name: 'errors', instance, options: { status: 500, share: 0.5 } });
    return { instance };
  },

  answers: {
    instance: {
      prompt: 'the catalog instance that fails (catalog-1 or catalog-2)',
      example: 'catalog-1',
      pattern: /^catalog-\d+$/,
      expected: (target) => target.instance,
    },
  },

  fix: [
    {
      name: 'product-errors',
      description: 'under 1% of the product requests at the gateway are answered 5xx',
      query: `(sum(rate(http_server_request_duration_seconds_count{${PRODUCTS},status_class="5xx"}[$window])) or vector(0))
        / sum(rate(http_server_request_duration_seconds_count{${PRODUCTS}}[$window])) < 0.01`,
    },
  ],

  async solve(ctx, target) {
    await ctx.answer({ instance: target.instance });
    // What an operator does with a replica in a bad state: restart it (the fault lives in its memory).
    await ctx.restart(target.instance);
  },
});
