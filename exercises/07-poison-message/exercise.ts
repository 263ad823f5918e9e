/**
 * Pub-sub and the dead-letter queue: a publisher sends one to four messages that no consumer can
 * process (half-written JSON) for one consumer's routing key, or both. Each consumer rejects what
 * it cannot parse into its dead-letter queue and goes on with the normal events, so the shop works
 * and only the DeadLetters alert says something. The learner finds which consumers rejected it and
 * a poison message's id (from the consumer's logs or the queue itself), then clears the
 * dead-letter queue after reading it.
 */
import { defineExercise, type Rng } from 'lab/exercise-api';

const CONSUMERS = ['inventory', 'notifications'] as const;
type Consumer = (typeof CONSUMERS)[number];
const HIT: Consumer[][] = [['inventory'], ['notifications'], ['inventory', 'notifications']];

const JOBS = `job=~"${CONSUMERS.join('|')}"`;
const DLQS = `${JOBS},queue=~".+\\\\.dlq"`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Target {
  consumers: Consumer[];
  /** Their queues in this lab; the dead-letter queue of each is `<queue>.dlq`. */
  queues: string[];
  messageIds: string[];
}

/** A version-4 UUID from the seed: the poison carries ids shaped like those of the real events. */
function uuid(rng: Rng): string {
  const hex = (n: number) => Array.from({ length: n }, () => rng.int(0, 15).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${rng.pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;
}

/** `notifications, inventory` and `inventory,notifications` are the same answer. */
const consumerSet = (value: string) =>
  [
    ...new Set(
      value
        .toLowerCase()
        .split(/[\s,]+/)
        .filter(Boolean),
    ),
  ]
    .sort()
    .join(',');

export default defineExercise<Target>({
  id: '07',
  slug: 'poison-message',
  title: 'The message nobody can read',
  topics: ['pub-sub', 'dead-letter queues and poison messages', 'centralised structured logs'],
  signals: ['logs', 'metrics', 'alerts'],
  modes: ['full', 'lite'],

  async setup(ctx, rng) {
    const consumers = rng.pick(HIT);
    const messageIds = Array.from({ length: rng.int(1, 4) }, () => uuid(rng));
    await ctx.faults.inject({
      name: 'poison-message',
      // Without a service the poison goes to every consumer's routing key.
      service: consumers.length === 1 ? consumers[0] : undefined,
      options: { count: messageIds.length, messageIds: messageIds.join(',') },
    });
    const queues = consumers.map((c) => ctx.queueOf(c));
    return { consumers, queues, messageIds };
  },

  answers: {
    consumer: {
      prompt: 'the service(s) whose consumer dead-lettered the poison, comma-separated if more than one',
      example: 'payments',
      normalise: consumerSet,
      pattern: /^[a-z]+(,[a-z]+)*$/,
      expected: (target) => consumerSet(target.consumers.join(',')),
    },
    'message-id': {
      prompt: 'the message id of a poison message (any one of them)',
      example: '3f2a9c4e-1b7d-4e0a-9c55-0d8e6b2f7a13',
      pattern: UUID,
      expected: (target) => target.messageIds,
    },
  },

  fix: [
    {
      name: 'dead-letters',
      description: 'both dead-letter queues stayed empty',
      // Both queues must be measured: a dead-letter queue nobody reports on is not an empty one.
      query: `max(max_over_time(messaging_queue_messages{${DLQS}}[$window])) == 0
        and on() count(max by (queue) (max_over_time(messaging_queue_messages{${DLQS}}[$window]))) == 2`,
    },
    {
      name: 'consumers-processing',
      description: 'both consumers acknowledged the normal events',
      query: `count(sum by (job) (rate(messaging_client_consumed_messages_total{${JOBS},outcome="ack"}[$window])) > 0) == 2`,
    },
  ],

  async solve(ctx, target) {
    await ctx.answer({ consumer: target.consumers.join(','), 'message-id': target.messageIds[0] });
    // Read, then drop: a message that is not JSON will never parse, however often it is replayed.
    for (const queue of target.queues) await ctx.purgeDeadLetters(`${queue}.dlq`);
  },
});
