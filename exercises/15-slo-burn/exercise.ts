/**
 * SLOs and burn-rate alerts: orders fails a random share of checkouts, so the checkout
 * availability SLO (99.5%, an error budget of 0.5%) burns many times faster than it may, and the
 * multi-window burn-rate alert pages. The learner reads the page (which alert, which severity),
 * measures the burn rate themselves, and stops the burn.
 */
import { defineExercise } from 'lab/exercise-api';

/** POST /api/orders at the gateway: the requests the checkout availability SLO counts. */
const CHECKOUT = 'job="gateway",route="/api/orders",method="POST"';
const BUDGET = 0.005;
/**
 * At the default ~5 requests/s a 5-minute window holds some 60 checkouts: the measured burn rate
 * strays ±20% from share / budget at one standard deviation. ±40% accepts a right reading
 * almost always, and the ranges of the shares drawn (0.2-0.5) still tell starts apart.
 */
const TOLERANCE = 0.4;

interface Target {
  share: number;
}

export default defineExercise<Target>({
  id: '15',
  slug: 'slo-burn',
  title: 'Burning the error budget',
  topics: ['monitoring and alerting', 'SLOs and error budgets', 'multi-window burn-rate alerts'],
  signals: ['alerts', 'metrics'],
  modes: ['full', 'lite'],

  async setup(ctx, rng) {
    const share = rng.int(20, 50) / 100;
    // A 500 is not retried by the gateway: every one reaches the customer, and the SLO.
    await ctx.faults.inject({ name: 'errors', service: 'orders', options: { status: 500, share } });
    return { share };
  },

  answers: {
    alert: {
      prompt: 'the name of the alert that paged',
      example: 'HighErrorRate',
      pattern: /^[a-z0-9_]+$/,
      expected: () => 'checkouterrorbudgetburn',
    },
    severity: {
      prompt: 'its severity label',
      example: 'ticket',
      pattern: /^[a-z]+$/,
      expected: () => 'page',
    },
    'burn-rate': {
      prompt: 'the burn rate over the last 5 minutes, while it pages (a number, e.g. 42 or 42.5)',
      example: '20',
      pattern: /^\d+$/,
      normalise: (value) => String(Math.round(Number(value.trim().replace(/x$/i, '')))),
      expected: ({ share }) => {
        const burn = share / BUDGET;
        const accepted: string[] = [];
        for (let n = Math.ceil(burn * (1 - TOLERANCE)); n <= Math.floor(burn * (1 + TOLERANCE)); n += 1)
          accepted.push(String(n));
        return accepted;
      },
    },
  },

  fix: [
    {
      name: 'burn-rate',
      description: 'the checkout availability SLO burns its error budget slower than it may (burn rate under 1)',
      query: `(sum(rate(http_server_request_duration_seconds_count{${CHECKOUT},status_class="5xx"}[$window])) or vector(0))
        / sum(rate(http_server_request_duration_seconds_count{${CHECKOUT}}[$window])) / ${BUDGET} < 1`,
    },
  ],

  async solve(ctx, target) {
    await ctx.answer({
      alert: 'CheckoutErrorBudgetBurn',
      severity: 'page',
      'burn-rate': String(Math.round(target.share / BUDGET)),
    });
    // The failing code path lives in the running orders process: a fresh one (a rollback) has it not.
    for (const instance of ctx.instances.filter((i) => i.service === 'orders')) await ctx.restart(instance.name);
  },
});
