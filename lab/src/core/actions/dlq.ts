import amqp, { type ConfirmChannel, type GetMessage, type MessageProperties } from 'amqplib';
import { LabError, UsageError } from '../errors';
import { labFaultContext } from '../faults';
import type { LabPaths } from '../paths';

/**
 * The lab's dead-letter queues, as an operator handles them: read what the consumers rejected
 * (and why) before deciding, then purge what can never succeed, or replay what failed for a
 * passing reason (a database that was away) into the queue it came from.
 */

/** Where the dead letters are: the broker, and the consumers' queues (each has `<queue>.dlq`). */
export interface Broker {
  amqpUrl: string;
  queues: string[];
}

export interface DeadLetter {
  messageId?: string;
  /** The key it was published with (the dead-lettering re-routes it by queue name). */
  routingKey?: string;
  /** rejected (by a consumer), expired, maxlen, delivery_limit. */
  reason?: string;
  /** How many times it was dead-lettered from that queue. */
  deaths: number;
  deadLetteredAt?: string;
  bytes: number;
  preview: string;
}

export interface DeadLetterQueue {
  queue: string;
  /** false: no consumer has declared it yet. */
  declared: boolean;
  messages: number;
  shown: DeadLetter[];
}

const PREVIEW_CHARS = 48;

/** The lab's broker names: a prefixed lab has its own queues (brokerNames in topology.ts). */
export function labBroker(paths: LabPaths): Broker {
  const { amqpUrl, queues } = labFaultContext(paths);
  return { amqpUrl, queues: Object.values(queues) };
}

async function withChannel<T>(broker: Broker, work: (channel: ConfirmChannel) => Promise<T>): Promise<T> {
  const conn = await amqp.connect(broker.amqpUrl).catch((err: Error) => {
    throw new LabError(`RabbitMQ does not answer at ${new URL(broker.amqpUrl).host} (${err.message}): is the lab up?`);
  });
  try {
    const channel = await conn.createConfirmChannel();
    channel.on('error', () => undefined); // a failed operation closes the channel; it rejects its promise too
    const result = await work(channel);
    // Closing the channel first flushes its acks: a connection closed at once may drop the last.
    await channel.close().catch(() => undefined); // already closed by a queue the broker did not know
    return result;
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** A dead-letter queue of this lab, named by itself or by the queue it serves. */
export function deadLetterQueue(broker: Broker, name: string): string {
  const dlqs = broker.queues.map((q) => `${q}.dlq`);
  const found = dlqs.find((dlq) => dlq === name || dlq === `${name}.dlq`);
  if (!found) throw new UsageError(`"${name}" is not a dead-letter queue of this lab; one of: ${dlqs.join(', ')}`);
  return found;
}

function deadLetterOf(message: GetMessage): DeadLetter {
  const { headers, messageId } = message.properties as { headers?: Record<string, unknown>; messageId?: string };
  const death = (headers?.['x-death'] as Array<Record<string, unknown>> | undefined)?.[0];
  const time = (death?.time as { value?: number } | undefined)?.value;
  const text = message.content.toString('utf8').replace(/\p{Cc}/gu, ' ');
  return {
    messageId,
    routingKey: (death?.['routing-keys'] as string[] | undefined)?.[0] ?? message.fields.routingKey,
    reason: death?.reason as string | undefined,
    deaths: Number(death?.count ?? 0),
    deadLetteredAt: time === undefined ? undefined : new Date(time * 1000).toISOString(),
    bytes: message.content.length,
    preview: text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text,
  };
}

/**
 * Reads up to `limit` messages of each dead-letter queue without taking them: got unacknowledged,
 * then handed back (requeued in their places), as the management UI's "Get messages" does.
 */
export async function listDeadLetters(broker: Broker, limit: number): Promise<DeadLetterQueue[]> {
  const result: DeadLetterQueue[] = [];
  for (const queue of broker.queues.map((q) => `${q}.dlq`)) {
    result.push(
      await withChannel(broker, async (channel) => {
        const info = await channel.checkQueue(queue).catch(() => undefined);
        if (!info) return { queue, declared: false, messages: 0, shown: [] };
        const shown: DeadLetter[] = [];
        for (let i = 0; i < Math.min(limit, info.messageCount); i += 1) {
          const message = await channel.get(queue, { noAck: false });
          if (!message) break;
          shown.push(deadLetterOf(message));
        }
        channel.nackAll(true);
        return { queue, declared: true, messages: info.messageCount, shown };
      }),
    );
  }
  return result;
}

export async function purgeDeadLetterQueue(broker: Broker, name: string): Promise<{ queue: string; purged: number }> {
  const queue = deadLetterQueue(broker, name);
  return withChannel(broker, async (channel) => {
    const { messageCount } = await channel.purgeQueue(queue).catch((err: Error) => {
      throw new LabError(`RabbitMQ refused to purge ${queue}: ${err.message}`);
    });
    return { queue, purged: messageCount };
  });
}

const DEATH_HEADER = /^x-(death|first-death-|last-death-)/;

/**
 * Moves every message in a dead-letter queue back to the queue it came from (not to the exchange:
 * the other subscribers had theirs already). Each is acknowledged only once the broker confirms
 * its copy; only the messages there at the start are taken, so one that dies again is not looped.
 */
export async function replayDeadLetters(
  broker: Broker,
  name: string,
): Promise<{ queue: string; to: string; replayed: string[] }> {
  const queue = deadLetterQueue(broker, name);
  const to = queue.slice(0, -'.dlq'.length);
  return withChannel(broker, async (channel) => {
    const { messageCount } = await channel.checkQueue(queue).catch((err: Error) => {
      throw new LabError(`RabbitMQ does not know ${queue} (${err.message}): has its consumer started?`);
    });
    const replayed: string[] = [];
    for (let i = 0; i < messageCount; i += 1) {
      const message = await channel.get(queue, { noAck: false });
      if (!message) break;
      channel.sendToQueue(to, message.content, republished(message.properties));
      await channel.waitForConfirms();
      channel.ack(message);
      replayed.push(String(message.properties.messageId ?? `#${i + 1}`));
    }
    return { queue, to, replayed };
  });
}

/** The message as its publisher sent it: the broker's dead-lettering headers left out. */
function republished(p: MessageProperties) {
  const headers = Object.fromEntries(Object.entries(p.headers ?? {}).filter(([key]) => !DEATH_HEADER.test(key)));
  const { contentType, contentEncoding, deliveryMode, priority, correlationId, messageId, timestamp, type, appId } = p;
  return {
    contentType,
    contentEncoding,
    deliveryMode,
    priority,
    correlationId,
    messageId,
    timestamp,
    type,
    appId,
    headers,
  };
}
