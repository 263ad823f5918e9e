/**
 * Orientation, no fault: the lab places one real checkout with a random cart, and the learner
 * follows it from the gateway to the consumers. The trace id is the lab's own (it sends the
 * traceparent), so the grader knows it; the evidence lookup checks the learner's trace really
 * is that order, service by service.
 */
import { defineExercise } from 'lab/exercise-api';

/** Who takes part in one paid checkout: the gateway, orders pricing at catalog, payments, both consumers. */
const TOUCHED = ['gateway', 'catalog', 'orders', 'payments', 'inventory', 'notifications'];
/** The services that log the order id while handling it. */
const NAME_THE_ORDER = ['orders', 'payments', 'inventory', 'notifications'];

interface Target {
  orderId: string;
  traceId: string;
}

export default defineExercise<Target>({
  id: '01',
  slug: 'follow-a-checkout',
  title: 'Follow a checkout',
  topics: ['distributed tracing', 'sync vs async communication', 'centralised structured logs'],
  signals: ['traces', 'logs'],
  modes: ['full', 'lite'],

  async setup(ctx, rng) {
    const customer = await ctx.shop.customer();
    // A declined payment ends the story early (no order.paid): place another until one is paid.
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      const products = await ctx.shop.products(rng.int(1, 5));
      const lines = new Map<number, number>();
      for (let n = rng.int(1, 3); n > 0; n -= 1) lines.set(rng.pick(products).id, rng.int(1, 3));
      const items = [...lines].map(([productId, quantity]) => ({ productId, quantity }));
      const order = await ctx.shop.checkout(customer, items);
      ctx.progress(`placed order ${order.id} (${items.length} line(s)): ${order.status}`);
      if (order.status === 'paid') return { orderId: order.id, traceId: order.traceId };
    }
    throw new Error('five checkouts in a row were declined: is payments healthy?');
  },

  facts: (target) => ({ order: target.orderId }),

  answers: {
    trace: {
      prompt: 'the trace id of that checkout (32 hexadecimal digits)',
      example: '4bf92f3577b34da6a3ce929d0e0e4736',
      pattern: /^[0-9a-f]{32}$/,
      expected: (target) => target.traceId,
    },
    services: {
      prompt: 'how many services took part in it',
      example: '3',
      pattern: /^\d+$/,
      normalise: (value) => String(Number(value.trim())),
      expected: () => String(TOUCHED.length),
    },
  },

  evidence: [
    {
      answer: 'trace',
      description: 'the trace id of the order you were given (lab answer 01 trace=<id>)',
      verify(trace, facts) {
        const missing = TOUCHED.filter((service) => !trace.services.includes(service));
        if (missing.length)
          return `trace ${trace.traceId} shows nothing from ${missing.join(', ')}: is it the checkout?`;
        const silent = NAME_THE_ORDER.filter((service) => !trace.mentions(facts.order, service));
        if (silent.length) return `in trace ${trace.traceId}, ${silent.join(', ')} never mention order ${facts.order}`;
        return undefined;
      },
    },
  ],

  async solve(ctx, target) {
    await ctx.answer({ trace: target.traceId, services: String(TOUCHED.length) });
  },
});
