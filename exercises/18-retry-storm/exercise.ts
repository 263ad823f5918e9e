/**
 * Retries without a budget: the gateway's retry policy was changed at runtime to retry every
 * failure, several times, without asking its retry budget (the retry-storm fault), and one catalog
 * replica broke (it fails, or answers too slowly for the gateway's timeout). Every product request
 * that lands on it is sent again to the other replica: customers see little, while catalog takes
 * 1.5-2 tries per request and the healthy replica carries all of it. The learner measures the
 * amplification, names the replica and how its tries fail, restores the gateway's configured
 * policy (a restart) and restarts the broken replica.
 */
import { defineExercise, instanceAnswer } from 'lab/exercise-api';

/** The gateway's product routes (/api/products, /search, /:id): catalog's traffic. */
const PRODUCTS = 'job="gateway",route=~"/api/products.*"';
const TRIES = 'gateway_upstream_requests_total{upstream="catalog"}';
/**
 * Tries per product request, measured with the fault on: 1.5 when the broken replica times out
 * (slow tries overlap, so first tries fall on both replicas), up to 2 when it fails at once (the
 * round robin then keeps sending every first try to it). What a learner reads off a 1-5 minute
 * window falls in 1.3-2.0.
 */
const AMPLIFICATION = ['1.3', '1.4', '1.5', '1.6', '1.7', '1.8', '1.9', '2.0'];

type Outcome = 'error' | 'timeout';

interface Target {
  instance: string;
  /** Its `replica` label in the gateway's metrics (its `instance` label in its own): `127.0.0.1:8092`. */
  labels: string[];
  outcome: Outcome;
}

export default defineExercise<Target>({
  id: '18',
  slug: 'retry-storm',
  title: 'The retries nobody budgeted',
  topics: [
    'the API gateway',
    'timeouts, retries and retry budgets',
    'circuit breaking',
    'load balancing over replicas',
  ],
  signals: ['metrics', 'logs', 'traces'],
  modes: ['full', 'lite'],

  async setup(ctx, rng) {
    const replicas = ctx.instances.filter((i) => i.service === 'catalog').map((i) => i.name);
    const instance = rng.pick(replicas);
    const outcome = rng.pick<Outcome>(['error', 'timeout']);
    // A 503 is what a replica that lost its database says; 1.3-2 s is over the gateway's 1 s try timeout.
    if (outcome === 'error') await ctx.faults.inject({ name: 'errors', instance, options: { status: 503, share: 1 } });
    else await ctx.faults.inject({ name: 'latency', instance, options: { ms: rng.int(13, 20) * 100, share: 1 } });
    await ctx.faults.inject({ name: 'retry-storm', service: 'gateway', options: { attempts: rng.int(4, 6) } });
    return { instance, labels: ctx.instanceLabels(instance), outcome };
  },

  answers: {
    upstream: {
      prompt: 'the upstream the gateway sends more tries than it receives requests for (auth, catalog or orders)',
      example: 'orders',
      pattern: /^(auth|catalog|orders)$/,
      expected: () => 'catalog',
    },
    instance: instanceAnswer(
      'the catalog replica whose tries fail: its name (catalog-2) or its address (127.0.0.1:8092)',
      'catalog-1',
      (target) => [target.instance, ...target.labels],
    ),
    outcome: {
      prompt: "how the gateway's tries to it end: error (an answer 5xx or no connection) or timeout",
      example: 'error',
      pattern: /^(error|timeout)$/,
      expected: (target) => target.outcome,
    },
    amplification: {
      prompt: 'tries the gateway sends catalog per product request it receives, one decimal (1.0: none retried)',
      example: '1.2',
      normalise: (value) => {
        const number = Number(value.trim().replace(/[x×]$/i, ''));
        return Number.isFinite(number) ? number.toFixed(1) : value.trim();
      },
      pattern: /^\d+\.\d$/,
      expected: () => AMPLIFICATION,
    },
  },

  fix: [
    {
      name: 'retry-budget',
      description: 'the gateway enforced its retry budget for every upstream over the whole window',
      query: `min(min_over_time(gateway_retry_budget_enforced[$window])) == 1`,
    },
    {
      name: 'amplification',
      description: 'the gateway sends catalog under 1.1 tries per product request',
      query: `sum(rate(${TRIES}[$window])) / sum(rate(http_server_request_duration_seconds_count{${PRODUCTS}}[$window])) < 1.1`,
    },
    {
      name: 'product-errors',
      description: 'under 1% of the product requests at the gateway are answered 5xx',
      query: `(sum(rate(http_server_request_duration_seconds_count{${PRODUCTS},status_class="5xx"}[$window])) or vector(0))
        / sum(rate(http_server_request_duration_seconds_count{${PRODUCTS}}[$window])) < 0.01`,
    },
  ],

  async solve(ctx, target) {
    await ctx.answer({ upstream: 'catalog', instance: target.instance, outcome: target.outcome, amplification: '1.6' });
    // The policy was changed in the running gateway: a fresh process runs the configured one.
    await ctx.restart('gateway');
    // The broken replica's state lives in its memory, as in exercise 02.
    await ctx.restart(target.instance);
  },
});
