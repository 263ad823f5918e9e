/**
 * Database per service and a slow query: the index that serves a customer's order history is
 * gone from the 200,000-row orders table, so every history page scans the table. The learner
 * finds the slow route and the table, and builds the index again as the orders service's own
 * MySQL user (lab sql orders "...").
 */
import { defineExercise } from 'lab/exercise-api';

const HISTORY = 'job="orders",route="/orders",method="GET"';
/**
 * With the index a history page takes a few ms. How slow the full scan of the 200,000 rows is
 * depends on the machine: 0.1-0.5 s a page on a shared 2-core machine, 0.04 s warm on a quiet
 * one. So the latency condition only confirms the route is fast again; whether the query can
 * use an index is asked of MySQL itself (history-index, below), which no machine changes.
 */
const P95_SECONDS = 0.1;
// The history's own query (services/orders/src/db.ts, listOrders) for one customer.
const HISTORY_QUERY = 'SELECT id FROM orders WHERE user_id = 1 ORDER BY created_at DESC, id DESC LIMIT 20';
// Plans that look a customer's rows up by user_id; ALL (a scan) or index (a walk of another index) do not.
const LOOKUPS = new Set(['ref', 'range', 'eq_ref', 'const']);

export default defineExercise<{ index: string }>({
  id: '03',
  slug: 'slow-query',
  title: 'The slow order history',
  topics: ['database per service', 'indexes and slow queries', 'latency percentiles'],
  signals: ['metrics', 'traces'],
  modes: ['full', 'lite'],

  async setup(ctx) {
    await ctx.faults.inject({ name: 'dropped-index', service: 'orders' });
    return { index: 'orders_user_created' };
  },

  answers: {
    route: {
      prompt: "the slow route's template, at the orders service or at the gateway",
      example: 'GET /orders/:id',
      // `GET /api/orders` and `/orders` name the same route: compare without the method and /api.
      normalise: (value) =>
        value
          .trim()
          .toLowerCase()
          .replace(/^(get|post|put|delete)\s+/, '')
          .replace(/^\/api(?=\/)/, ''),
      pattern: /^\/[a-z0-9/:_-]*$/,
      expected: () => '/orders',
    },
    table: {
      prompt: 'the table the slow query reads',
      example: 'order_items',
      normalise: (value) =>
        value
          .trim()
          .toLowerCase()
          .replace(/^[a-z_]*orders\./, '')
          .replace(/`/g, ''),
      pattern: /^[a-z_]+$/,
      expected: () => 'orders',
    },
  },

  fix: [
    {
      name: 'history-index',
      description: "MySQL finds a customer's orders through an index (EXPLAIN of the history query, as orders' user)",
      probe: async ({ lab }) => {
        const { rows = [] } = await lab.sql('orders', `EXPLAIN ${HISTORY_QUERY}`);
        const plan = rows[0] ?? {};
        if (LOOKUPS.has(String(plan.type))) return undefined;
        return `MySQL still reads the orders table without a user_id lookup for each history page (EXPLAIN: type ${String(plan.type)}, key ${String(plan.key ?? 'none')}, ~${String(plan.rows)} rows)`;
      },
    },
    {
      name: 'history-p95',
      description: `the p95 of GET /orders (the order history) at orders is under ${P95_SECONDS} s`,
      query: `histogram_quantile(0.95, sum by (le) (rate(http_server_request_duration_seconds_bucket{${HISTORY}}[$window]))) < ${P95_SECONDS}`,
    },
  ],

  async solve(ctx, target) {
    await ctx.answer({ route: 'GET /orders', table: 'orders' });
    await ctx.sql('orders', `CREATE INDEX ${target.index} ON orders (user_id, created_at)`);
  },
});
