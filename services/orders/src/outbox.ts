import { context, propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { ORDER_CREATED, ORDER_PAID, prom, type Faults, type Logger, type Registry } from '@shopnow/kit';
import { OCCURRED_AT_HEADER, type Amqp } from '@shopnow/kit/amqp';
import { withTransaction, type Pool } from '@shopnow/kit/mysql';
import * as db from './db';

export interface RelayDeps {
  pool: Pool;
  amqp: Amqp;
  exchange: string;
  log: Logger;
  registry: Registry;
  pollMs: number;
  batchSize?: number;
  faults?: Faults;
}

export interface OutboxRelay {
  /** Publishes one batch of unpublished events; rejects when the batch had to stop (broker away). */
  relayOnce(): Promise<number>;
  /** Polls every pollMs (at once again after a full batch) until stop(). */
  start(): void;
  /** Stops polling and waits for the batch in hand. */
  stop(): Promise<void>;
}

/** Both backlog gauges come from one COUNT query per scrape; a failed query leaves the last values. */
function registerBacklogGauges(pool: Pool, registry: Registry): void {
  let reading: Promise<{ messages: number; oldest: Date | null } | undefined> | undefined;
  const read = () =>
    (reading ??= db
      .outboxBacklog(pool)
      .catch(() => undefined)
      .finally(() => (reading = undefined)));
  new prom.Gauge({
    name: 'outbox_backlog_messages',
    help: 'Events written to the outbox and not yet published to RabbitMQ, read at scrape time.',
    registers: [registry],
    async collect() {
      const backlog = await read();
      if (backlog) this.set(backlog.messages);
    },
  });
  new prom.Gauge({
    name: 'outbox_oldest_message_age_seconds',
    help: 'Age of the oldest unpublished outbox event (0 when none waits), read at scrape time.',
    registers: [registry],
    async collect() {
      const backlog = await read();
      if (backlog) this.set(backlog.oldest ? Math.max(0, Date.now() - backlog.oldest.getTime()) / 1000 : 0);
    },
  });
}

/**
 * The transactional outbox's other half: events committed with their orders are published with
 * broker confirms, then marked published. A crash between the two publishes an event twice, never
 * zero times (at-least-once): consumers deduplicate by messageId.
 */
export function createOutboxRelay({
  pool,
  amqp,
  exchange,
  log,
  registry,
  pollMs,
  batchSize = 100,
  faults,
}: RelayDeps): OutboxRelay {
  const published = new prom.Counter({
    name: 'outbox_published_messages_total',
    help: 'Outbox events published to RabbitMQ and confirmed by the broker, by event type.',
    labelNames: ['event_type'],
    registers: [registry],
  });
  for (const eventType of [ORDER_CREATED, ORDER_PAID]) published.inc({ event_type: eventType }, 0);
  registerBacklogGauges(pool, registry);

  // Each event is published inside the trace context stored with it: the publish span, and the
  // consumers after it, join the checkout's trace instead of starting one of their own.
  function publish(row: db.OutboxRow): Promise<void> {
    // FAULT(broken-propagation): the stored context is dropped, so every publish starts a trace of its own.
    const checkout = faults?.active('broken-propagation')
      ? ROOT_CONTEXT
      : propagation.extract(ROOT_CONTEXT, row.traceContext);
    return context.with(checkout, () =>
      amqp.publish(exchange, row.eventType, row.payload, {
        messageId: row.id,
        headers: { [OCCURRED_AT_HEADER]: row.createdAt.getTime() },
      }),
    );
  }

  async function relayBatch(): Promise<number> {
    let failure: unknown;
    const count = await withTransaction(pool, async (conn) => {
      const done: string[] = [];
      for (const row of await db.lockUnpublished(conn, batchSize)) {
        try {
          await publish(row);
        } catch (err) {
          failure = err;
          break;
        }
        done.push(row.id);
        published.inc({ event_type: row.eventType });
      }
      await db.markPublished(conn, done, new Date());
      return done.length;
    });
    if (failure) throw failure;
    return count;
  }

  // Polling several times a second would fill the trace store with empty SELECTs: the relay's own
  // queries are not traced, only the publishes (in their checkout's context).
  const relayOnce = () => context.with(suppressTracing(ROOT_CONTEXT), relayBatch);

  let stopped = true;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  let stalled = false;

  function tick() {
    current = relayOnce().then(
      (count) => {
        if (stalled) log.info('outbox relay publishing again');
        stalled = false;
        schedule(count === batchSize ? 0 : pollMs);
      },
      (err: unknown) => {
        // Logged once per outage, not once per tick; the rows wait in the outbox meanwhile.
        if (!stalled) log.warn('outbox relay cannot publish, retrying every tick', { err: (err as Error).message });
        stalled = true;
        schedule(pollMs);
      },
    );
  }

  function schedule(delayMs: number) {
    if (!stopped) timer = setTimeout(tick, delayMs);
  }

  return {
    relayOnce,
    start() {
      if (!stopped) return;
      stopped = false;
      schedule(0);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
