/**
 * Distributed tracing across the broker: the orders outbox relay publishes its events without
 * the trace context it stored with them, so inventory and notifications start traces of their
 * own and a checkout's trace ends at orders. The learner finds where the context is lost, shows
 * a checkout whose consumers carry another trace id, and deploys the fixed relay (lab restart
 * orders). No metric sees propagation: the fix is probed with a fresh checkout of the lab's own.
 */
import { defineExercise } from 'lab/exercise-api';

/** The consumers a paid checkout's events reach. */
const CONSUMERS = ['inventory', 'notifications'];
const CONSUMERS_WAIT_MS = 20_000;

export default defineExercise<{ service: string }>({
  id: '13',
  slug: 'broken-propagation',
  title: 'The trace that stops at the broker',
  topics: ['distributed tracing', 'sync vs async communication', 'the transactional outbox'],
  signals: ['traces', 'logs'],
  modes: ['full', 'lite'],

  // broken-propagation exists in orders only: nothing here can be randomised.
  async setup(ctx) {
    await ctx.faults.inject({ name: 'broken-propagation', service: 'orders' });
    return { service: 'orders' };
  },

  answers: {
    service: {
      prompt: 'the service that loses the trace context',
      example: 'payments',
      pattern: /^[a-z]+(-\d+)?$/,
      normalise: (value) => value.trim().toLowerCase().replace(/-\d+$/, ''),
      expected: (target) => target.service,
    },
    hop: {
      prompt: 'the hop where it is lost: publish (the outbox relay) or consume',
      example: 'consume',
      pattern: /^[a-z-]+$/,
      normalise: (value) =>
        value
          .trim()
          .toLowerCase()
          .replace(/[\s_]+/g, '-'),
      expected: () => ['publish', 'outbox-relay', 'relay', 'outbox', 'outbox-publish'],
    },
    trace: {
      prompt: 'the trace id of a checkout whose consumers logged another trace id',
      example: '4bf92f3577b34da6a3ce929d0e0e4736',
      pattern: /^[0-9a-f]{32}$/,
    },
  },

  evidence: [
    {
      answer: 'trace',
      description: 'the trace id of a checkout (lab answer 13 trace=<id>) whose consumers are not in it',
      verify(trace) {
        // Only a checkout calls payments: the history and order pages do not.
        if (!trace.services.includes('orders') || !trace.services.includes('payments'))
          return `trace ${trace.traceId} is not a checkout (it never reaches orders and payments)`;
        const joined = CONSUMERS.filter((service) => trace.services.includes(service));
        if (joined.length) return `in trace ${trace.traceId}, ${joined.join(' and ')} did join the checkout's trace`;
        return undefined;
      },
    },
  ],

  fix: [
    {
      name: 'propagation',
      description: `a fresh checkout's trace reaches ${CONSUMERS.join(' and ')}`,
      async probe({ shop, traces }) {
        const customer = await shop.customer();
        const [product] = await shop.products(1);
        // A declined payment publishes no order.paid: place another until one is paid.
        for (let attempt = 1; attempt <= 3; attempt += 1) {
          const order = await shop.checkout(customer, [{ productId: product.id, quantity: 1 }]);
          if (order.status !== 'paid') continue;
          const deadline = Date.now() + CONSUMERS_WAIT_MS;
          for (;;) {
            const trace = await traces.find(order.traceId);
            const missing = CONSUMERS.filter((service) => !trace?.services.includes(service));
            if (!missing.length) return undefined;
            if (Date.now() > deadline)
              return `order ${order.id}: trace ${order.traceId} shows nothing from ${missing.join(', ')} after ${CONSUMERS_WAIT_MS / 1000} s`;
            await new Promise((resolve) => setTimeout(resolve, 1_000));
          }
        }
        return 'three checkouts in a row were declined: is payments healthy?';
      },
    },
  ],

  async solve(ctx, target) {
    // The evidence: a checkout placed while the relay drops the context.
    const customer = await ctx.shop.customer();
    const [product] = await ctx.shop.products(1);
    const order = await ctx.shop.checkout(customer, [{ productId: product.id, quantity: 1 }]);
    await ctx.answer({ service: target.service, hop: 'publish', trace: order.traceId });
    // Its events must leave through the broken relay: a fixed relay would publish them with the context.
    const waiting = `SELECT COUNT(*) AS waiting FROM outbox
      WHERE published_at IS NULL AND JSON_UNQUOTE(JSON_EXTRACT(payload, '$.order.id')) = '${order.id}'`;
    for (let tries = 0; Number((await ctx.sql('orders', waiting)).rows?.[0]?.waiting) > 0; tries += 1) {
      if (tries >= 60) throw new Error(`the events of order ${order.id} were not published within 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    // The fixed relay, deployed: a fresh orders process (the fault lives in its memory).
    for (const instance of ctx.instances.filter((i) => i.service === target.service)) await ctx.restart(instance.name);
  },
});
