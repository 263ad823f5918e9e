/**
 * The queue model and consumer lag: one queue's consumer (inventory or notifications, drawn at
 * random) stops keeping up — it either holds its messages unacked without finishing them, or
 * takes seconds over each. Orders still succeed (the work after the order is asynchronous), so
 * only the queue metrics show it. The learner finds the queue and its consumer, and restarts it.
 */
import { defineExercise } from 'lab/exercise-api';

const CONSUMERS = ['inventory', 'notifications'] as const;
/** The consumers' queues, not their dead-letter queues (a prefixed lab's names included). */
const QUEUES = `job=~"${CONSUMERS.join('|')}",queue!~".*\\\\.dlq"`;
const BACKLOG = 10;
const LAG_SECONDS = 5;

interface Target {
  service: (typeof CONSUMERS)[number];
  queue: string;
  mode: 'stalled' | 'slow';
}

export default defineExercise<Target>({
  id: '06',
  slug: 'queue-backlog',
  title: 'The orders nobody processes',
  topics: ['the queue model', 'consumer lag and eventual consistency', 'sync vs async communication'],
  signals: ['metrics', 'logs', 'alerts'],
  modes: ['full', 'lite'],

  async setup(ctx, rng) {
    const service = rng.pick(CONSUMERS);
    const queue = ctx.queueOf(service);
    const mode = rng.pick(['stalled', 'slow'] as const);
    // Slow: each message takes longer than ConsumerLagHigh's 30 s, so the lag shows it (and pages)
    // even at a low order rate, while prefetch keeps the ready backlog small.
    const options = mode === 'slow' ? { mode, delayMs: rng.int(35, 50) * 1_000 } : { mode };
    await ctx.faults.inject({ name: 'consumer-stall', service, options });
    return { service, queue, mode };
  },

  answers: {
    queue: {
      prompt: 'the queue whose messages wait',
      example: 'payments.order-created',
      pattern: /^[\w-]+\.[a-z-]+$/,
      expected: (target) => target.queue,
    },
    consumer: {
      prompt: 'the service that consumes it',
      example: 'payments',
      pattern: /^[a-z]+$/,
      expected: (target) => target.service,
    },
  },

  fix: [
    {
      name: 'backlog',
      description: `fewer than ${BACKLOG} messages wait in each consumer queue`,
      query: `max(max_over_time(messaging_queue_messages{${QUEUES}}[$window])) < ${BACKLOG}`,
    },
    {
      name: 'lag',
      description: `the p95 of the consumer lag of each queue is under ${LAG_SECONDS} s`,
      query: `max(histogram_quantile(0.95, sum by (queue, le) (rate(messaging_process_lag_seconds_bucket{${QUEUES}}[$window])))) < ${LAG_SECONDS}
        and on() count(sum by (queue) (rate(messaging_process_lag_seconds_count{${QUEUES}}[$window])) > 0) == ${CONSUMERS.length}`,
    },
  ],

  async solve(ctx, target) {
    await ctx.answer({ queue: target.queue, consumer: target.service });
    // The consumer's state lives in its process: a fresh one consumes again, and the broker
    // redelivers every message the old one held unacked.
    await ctx.restart(target.service);
  },
});
