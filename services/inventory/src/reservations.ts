import { ORDER_CREATED, orderEvent, prom, type Logger, type OrderEvent, type Registry } from '@shopnow/kit';
import { PoisonMessageError, type Handler } from '@shopnow/kit/amqp';
import { withTransaction, type Pool } from '@shopnow/kit/mysql';
import * as db from './db';

const OUTCOMES = ['reserved', 'duplicate', 'out_of_stock'] as const;
export type ReservationOutcome = (typeof OUTCOMES)[number];

/**
 * One line per product, in product id order: two orders then lock the stock rows they share in the
 * same order, so their transactions wait for each other instead of deadlocking.
 */
function linesOf(items: OrderEvent['order']['items']): db.Line[] {
  const quantities = new Map<number, number>();
  for (const { productId, quantity } of items) quantities.set(productId, (quantities.get(productId) ?? 0) + quantity);
  return [...quantities].sort(([a], [b]) => a - b).map(([productId, quantity]) => ({ productId, quantity }));
}

/**
 * Reserves an order's stock at most once, in one transaction. The reservation row comes first: its
 * primary key turns a redelivery (at-least-once delivery) into a no-op. If a line is short, the
 * decrements already made are undone and the order is recorded as rejected.
 */
export async function reserveStock(pool: Pool, order: OrderEvent['order']): Promise<ReservationOutcome> {
  return withTransaction(pool, async (conn) => {
    if (!(await db.insertReservation(conn, order.id))) return 'duplicate';
    const lines = linesOf(order.items);
    await db.insertReservationLines(conn, order.id, lines);
    await db.savepoint(conn);
    for (const line of lines) {
      if (!(await db.decrementStock(conn, line))) {
        await db.rollbackToSavepoint(conn);
        await db.rejectReservation(conn, order.id);
        return 'out_of_stock';
      }
    }
    return 'reserved';
  });
}

interface ConsumerDeps {
  pool: Pool;
  registry: Registry;
  log: Logger;
}

/** A message that is not an order.created event can never succeed: it is poison, for the dead-letter queue. */
export function orderCreatedHandler({ pool, registry, log }: ConsumerDeps): Handler {
  const reservations = new prom.Counter({
    name: 'inventory_reservations_total',
    help: 'order.created events processed, by outcome: reserved, duplicate (already applied) or out_of_stock.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of OUTCOMES) reservations.inc({ outcome }, 0);

  return async (body) => {
    const parsed = orderEvent.safeParse(body);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
      throw new PoisonMessageError(`not an order event: ${problems.join('; ')}`);
    }
    const event = parsed.data;
    if (event.type !== ORDER_CREATED) throw new PoisonMessageError(`expected ${ORDER_CREATED}, got ${event.type}`);
    const outcome = await reserveStock(pool, event.order);
    reservations.inc({ outcome });
    log.info('order.created processed', { orderId: event.order.id, eventId: event.eventId, outcome });
  };
}
