import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { z } from 'zod';
import { serviceUrl } from './config';
import type { Faults } from './faults/engine';
import type { Logger } from './logger';
import { LATENCY_BUCKETS, prom, type Registry } from './metrics';

export type { Channel, ConsumeMessage };

/** Domain events are published to one topic exchange (EVENTS_EXCHANGE overrides the name); consumers bind their own queues to it. */
export const EVENTS_EXCHANGE = 'shopnow.events';
/** Messages a consumer rejects go here, routed by the name of the queue they came from. */
export const DEAD_LETTER_EXCHANGE = 'shopnow.dlx';
/** Header carrying when the event happened (ms since epoch): consumers export the lag from it. */
export const OCCURRED_AT_HEADER = 'x-occurred-at';

/** What every service that talks to RabbitMQ reads. */
export const amqpEnv = {
  AMQP_URL: serviceUrl('amqp', 'amqps').default('amqp://127.0.0.1:5672'),
  EVENTS_EXCHANGE: z.string().min(1).default(EVENTS_EXCHANGE),
};

const CONFIRM_TIMEOUT_MS = 5_000;

/** Thrown by a handler for a message that can never be processed: it goes to the dead-letter queue. */
export class PoisonMessageError extends Error {}

export interface PublishOptions {
  messageId?: string;
  headers?: Record<string, unknown>;
}

export type Handler = (body: unknown, message: ConsumeMessage) => Promise<void>;

export interface Amqp {
  /** Publishes a persistent JSON message and resolves once the broker has confirmed it. */
  publish(exchange: string, routingKey: string, body: unknown, options?: PublishOptions): Promise<void>;
  /** Consumes a queue with manual acks, on every (re)connection. */
  consume(queue: string, handler: Handler, options: { prefetch: number }): void;
  isConnected(): boolean;
  close(): Promise<void>;
}

/**
 * Declares a durable queue bound to the events exchange, with a dead-letter queue beside it
 * (`<queue>.dlq`) for the messages its consumer rejects.
 */
export async function declareQueue(
  channel: Channel,
  { exchange, queue, routingKeys }: { exchange: string; queue: string; routingKeys: string[] },
): Promise<void> {
  await channel.assertExchange(exchange, 'topic', { durable: true });
  await channel.assertExchange(DEAD_LETTER_EXCHANGE, 'direct', { durable: true });
  await channel.assertQueue(`${queue}.dlq`, { durable: true });
  await channel.bindQueue(`${queue}.dlq`, DEAD_LETTER_EXCHANGE, queue);
  await channel.assertQueue(queue, {
    durable: true,
    arguments: { 'x-dead-letter-exchange': DEAD_LETTER_EXCHANGE, 'x-dead-letter-routing-key': queue },
  });
  for (const key of routingKeys) await channel.bindQueue(queue, exchange, key);
}

interface Options {
  url: string;
  log: Logger;
  registry: Registry;
  /** Declares exchanges and queues; run again after every reconnection. */
  topology: (channel: Channel) => Promise<void>;
  /** Queues whose depth this service exports. */
  watchQueues?: string[];
  faults?: Faults;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createAmqp({ url, log, registry, topology, watchQueues = [], faults }: Options): Amqp {
  const sent = new prom.Counter({
    name: 'messaging_client_sent_messages_total',
    help: 'Messages published to RabbitMQ, by exchange, routing key and outcome (confirmed by the broker, or failed).',
    labelNames: ['exchange', 'routing_key', 'outcome'],
    registers: [registry],
  });
  const consumed = new prom.Counter({
    name: 'messaging_client_consumed_messages_total',
    help: 'Messages consumed from RabbitMQ, by queue and outcome (ack, requeue, dead_letter).',
    labelNames: ['queue', 'outcome'],
    registers: [registry],
  });
  const processing = new prom.Histogram({
    name: 'messaging_process_duration_seconds',
    help: 'Time a consumer spent processing one message.',
    labelNames: ['queue', 'outcome'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const lag = new prom.Histogram({
    name: 'messaging_process_lag_seconds',
    help: 'Time from the event happening (the order committed) to a consumer finishing it: the eventual-consistency lag.',
    labelNames: ['queue'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });

  let model: ChannelModel | undefined;
  let publisher: ConfirmChannel | undefined;
  let closing = false;
  let attempt = 0;
  const consumers: Array<{ queue: string; handler: Handler; prefetch: number }> = [];
  const channels: Array<{ channel: Channel; tag: string }> = [];
  let inFlight = 0;

  new prom.Gauge({
    name: 'messaging_queue_messages',
    help: 'Messages ready in a RabbitMQ queue (the backlog), read from the broker at scrape time.',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      if (!publisher) return;
      for (const queue of watchQueues) {
        const info = await publisher.checkQueue(queue).catch(() => undefined);
        if (info) this.set({ queue }, info.messageCount);
      }
    },
  });

  async function startConsumer(conn: ChannelModel, queue: string, handler: Handler, prefetch: number) {
    const channel = await conn.createChannel();
    await channel.prefetch(prefetch);
    const { consumerTag } = await channel.consume(queue, async (message) => {
      if (!message) return;
      inFlight += 1;
      const start = process.hrtime.bigint();
      let outcome: 'ack' | 'requeue' | 'dead_letter' = 'ack';
      try {
        let body: unknown;
        try {
          body = JSON.parse(message.content.toString('utf8'));
        } catch {
          throw new PoisonMessageError('message body is not JSON');
        }
        // FAULT(consumer-stall): hold the message unacked until cleared, take delayMs per message,
        // or die in the middle of one (the broker redelivers it to whoever consumes next).
        const stall = faults?.active('consumer-stall');
        if (stall?.mode === 'crash') {
          log.error('consumer crashed mid-message', { queue, messageId: message.properties.messageId });
          process.exit(1);
        }
        if (stall?.mode === 'slow') await pause(stall.delayMs);
        while (faults?.active('consumer-stall')?.mode === 'stalled' && !closing) await pause(200);
        await handler(body, message);
        channel.ack(message);
      } catch (err) {
        outcome = err instanceof PoisonMessageError ? 'dead_letter' : 'requeue';
        log.error('message processing failed', {
          queue,
          outcome,
          err: (err as Error).message,
          messageId: message.properties.messageId,
        });
        // A transient failure (database away) is retried after a pause instead of spinning hot.
        if (outcome === 'requeue') await pause(1_000);
        try {
          channel.nack(message, false, outcome === 'requeue');
        } catch {
          // The channel died meanwhile: the broker redelivers the message anyway.
        }
      }
      consumed.inc({ queue, outcome });
      processing.observe({ queue, outcome }, Number(process.hrtime.bigint() - start) / 1e9);
      const occurredAt = Number(message.properties.headers?.[OCCURRED_AT_HEADER]);
      if (outcome === 'ack' && Number.isFinite(occurredAt))
        lag.observe({ queue }, Math.max(0, Date.now() - occurredAt) / 1000);
      inFlight -= 1;
    });
    channels.push({ channel, tag: consumerTag });
  }

  async function connect(): Promise<void> {
    try {
      const conn = await amqp.connect(url);
      conn.on('error', (err: Error) => log.warn('rabbitmq connection error', { err: err.message }));
      conn.on('close', () => {
        model = undefined;
        channels.length = 0;
        publisher = undefined;
        if (!closing) {
          log.warn('rabbitmq connection closed, reconnecting');
          scheduleReconnect();
        }
      });
      const setup = await conn.createChannel();
      await topology(setup);
      await setup.close();
      publisher = await conn.createConfirmChannel();
      publisher.on('error', (err: Error) => log.warn('rabbitmq channel error', { err: err.message }));
      for (const { queue, handler, prefetch } of consumers) await startConsumer(conn, queue, handler, prefetch);
      model = conn;
      attempt = 0;
      log.info('rabbitmq connected');
    } catch (err) {
      log.warn('rabbitmq unavailable', { err: (err as Error).message, attempt });
      scheduleReconnect();
    }
  }

  function scheduleReconnect() {
    if (closing) return;
    attempt += 1;
    setTimeout(() => void connect(), Math.min(250 * 2 ** attempt, 5_000)).unref();
  }

  void connect();

  return {
    async publish(exchange, routingKey, body, { messageId, headers = {} } = {}) {
      const channel = publisher;
      if (!channel) {
        sent.inc({ exchange, routing_key: routingKey, outcome: 'failed' });
        throw new Error('rabbitmq is not connected');
      }
      const content = Buffer.from(JSON.stringify(body));
      try {
        await new Promise<void>((resolve, reject) => {
          // A confirm that never comes (a blocked broker) must not stall the publisher forever.
          const timer = setTimeout(
            () => reject(new Error(`no confirm from the broker within ${CONFIRM_TIMEOUT_MS} ms`)),
            CONFIRM_TIMEOUT_MS,
          );
          channel.publish(
            exchange,
            routingKey,
            content,
            { persistent: true, contentType: 'application/json', messageId, headers },
            (err) => {
              clearTimeout(timer);
              if (err) reject(err instanceof Error ? err : new Error('broker refused the message'));
              else resolve();
            },
          );
        });
        sent.inc({ exchange, routing_key: routingKey, outcome: 'confirmed' });
      } catch (err) {
        sent.inc({ exchange, routing_key: routingKey, outcome: 'failed' });
        throw err;
      }
    },
    consume(queue, handler, { prefetch }) {
      consumers.push({ queue, handler, prefetch });
      if (model) void startConsumer(model, queue, handler, prefetch);
    },
    isConnected: () => model !== undefined,
    /** Stops taking messages, lets the ones in hand finish (up to 5 s), then closes the connection. */
    async close() {
      closing = true;
      await Promise.all(channels.map(({ channel, tag }) => channel.cancel(tag).catch(() => undefined)));
      const deadline = Date.now() + 5_000;
      while (inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      await model?.close().catch(() => undefined);
    },
  };
}

/**
 * Consumes domain events: a durable queue of this service's own, bound to the events exchange for
 * `routingKeys`, with its dead-letter queue beside it, and up to `prefetch` unacknowledged messages
 * per instance. Instances of one service share the queue and compete for its messages (the queue
 * model); each service binding a queue of its own gets a copy of every matching event (pub-sub).
 */
export function consumeEvents(
  options: Omit<Options, 'topology' | 'watchQueues'> & {
    exchange: string;
    queue: string;
    routingKeys: string[];
    prefetch: number;
    handler: Handler;
  },
): Amqp {
  const { exchange, queue, routingKeys, prefetch, handler } = options;
  const client = createAmqp({
    ...options,
    watchQueues: [queue, `${queue}.dlq`],
    topology: (channel) => declareQueue(channel, { exchange, queue, routingKeys }),
  });
  client.consume(queue, handler, { prefetch });
  return client;
}
