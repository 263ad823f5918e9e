import { createHash, randomUUID } from 'node:crypto';
import { context, propagation } from '@opentelemetry/api';
import {
  AppError,
  forbidden,
  LATENCY_BUCKETS,
  notFound,
  ORDER_CREATED,
  ORDER_PAID,
  prom,
  traceExemplar,
  type Caller,
  type Faults,
  type Logger,
  type OrderEvent,
  type Registry,
} from '@shopnow/kit';
import { withTransaction, type Pool } from '@shopnow/kit/mysql';
import { chargeOrder, fetchPrice, type Payment } from './clients';
import * as db from './db';

export interface Line {
  productId: number;
  quantity: number;
}

export interface Order {
  id: string;
  userId: number;
  status: db.OrderStatus;
  totalCents: number | null;
  currency: string;
  items: Array<{ productId: number; quantity: number; priceCents: number }>;
  paymentId: string | null;
  createdAt: string;
}

export interface OrdersDeps {
  pool: Pool;
  registry: Registry;
  log: Logger;
  catalogUrl: string;
  paymentsUrl: string;
  catalogTimeoutMs: number;
  paymentsTimeoutMs: number;
  faults?: Faults;
}

const CURRENCY = 'EUR';

/** Same lines in any order are the same request: that is what an Idempotency-Key is compared against. */
export function hashRequest(lines: Line[]): string {
  const canonical = [...lines].sort((a, b) => a.productId - b.productId).map((line) => [line.productId, line.quantity]);
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

export const totalOf = (lines: db.LineRow[]) => lines.reduce((sum, line) => sum + line.priceCents * line.quantity, 0);

const toItems = (lines: db.LineRow[]) =>
  lines.map(({ productId, quantity, priceCents }) => ({ productId, quantity, priceCents }));

function present(row: db.OrderRow, lines: db.LineRow[]): Order {
  return {
    id: row.id,
    userId: row.userId,
    status: row.status,
    totalCents: row.totalCents,
    currency: row.currency,
    items: toItems(lines),
    paymentId: row.paymentId,
    createdAt: row.createdAt.toISOString(),
  };
}

export function createOrders(deps: OrdersDeps) {
  const { pool } = deps;
  const created = new prom.Counter({
    name: 'orders_created_total',
    help: 'Checkouts that reached an outcome, by status (paid, declined).',
    labelNames: ['status'],
    enableExemplars: true,
    registers: [deps.registry],
  });
  // Zero from the start: a panel or alert on "no paid orders" must see 0, not a missing series.
  for (const status of ['paid', 'declined']) created.inc({ labels: { status }, value: 0 });
  const duration = new prom.Histogram({
    name: 'orders_checkout_duration_seconds',
    help: 'Time from claiming the Idempotency-Key to the outcome of a checkout (pricing, charge, outbox), by outcome.',
    labelNames: ['outcome'],
    buckets: LATENCY_BUCKETS,
    enableExemplars: true,
    registers: [deps.registry],
  });

  async function load(id: string): Promise<Order> {
    const row = await db.findOrder(pool, id);
    if (!row) throw notFound('order');
    return present(row, await db.findLines(pool, [id]));
  }

  /** Prices are fixed the first time: a resumed checkout charges what was priced before. */
  async function priceOnce(orderId: string, lines: Line[]): Promise<db.LineRow[]> {
    const priced = await Promise.all(
      lines.map(async (line) => ({
        orderId,
        ...line,
        priceCents: await fetchPrice(deps.catalogUrl, line.productId, deps.catalogTimeoutMs, deps.faults),
      })),
    );
    const stored = await withTransaction(pool, async (conn) => {
      if (!(await db.setTotal(conn, orderId, totalOf(priced)))) return false;
      await db.insertLines(conn, priced);
      return true;
    });
    return stored ? priced : db.findLines(pool, [orderId]);
  }

  function outboxRow(type: OrderEvent['type'], order: OrderEvent['order'], now: Date): db.OutboxRow {
    const eventId = randomUUID();
    // The checkout's trace context travels with the event, so the relay's publish joins this trace.
    const traceContext: Record<string, string> = {};
    propagation.inject(context.active(), traceContext);
    const payload: OrderEvent = { eventId, type, occurredAt: now.toISOString(), order };
    return { id: eventId, eventType: type, payload, traceContext, createdAt: now };
  }

  /** The outcome and its events are one transaction: an order is never paid without its events, nor the reverse. */
  async function settle(order: db.OrderRow, lines: db.LineRow[], totalCents: number, payment: Payment) {
    const status = payment.status === 'approved' ? 'paid' : 'declined';
    const now = new Date();
    const settled = await withTransaction(pool, async (conn) => {
      if (!(await db.settleOrder(conn, order.id, status, String(payment.id)))) return false;
      if (status === 'paid') {
        const event = { id: order.id, userId: order.userId, totalCents, items: toItems(lines) };
        await db.insertOutbox(conn, [outboxRow(ORDER_CREATED, event, now), outboxRow(ORDER_PAID, event, now)]);
      }
      return true;
    });
    if (!settled) return;
    created.inc({ labels: { status }, value: 1, exemplarLabels: traceExemplar() });
    deps.log.info('order settled', { orderId: order.id, status, totalCents, paymentId: String(payment.id) });
  }

  async function checkout(
    caller: Caller,
    idempotencyKey: string,
    lines: Line[],
  ): Promise<{ order: Order; replayed: boolean }> {
    const requestHash = hashRequest(lines);
    const claim = { id: randomUUID(), userId: caller.userId, idempotencyKey, requestHash, createdAt: new Date() };
    const order = await db.claimOrder(pool, claim);
    if (order.requestHash !== requestHash) {
      throw new AppError(422, 'IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for another request');
    }
    if (order.status !== 'pending') return { order: await load(order.id), replayed: true };

    const started = process.hrtime.bigint();
    let outcome = 'failed';
    try {
      const priced =
        order.totalCents === null ? await priceOnce(order.id, lines) : await db.findLines(pool, [order.id]);
      const totalCents = totalOf(priced);
      const charge = { orderId: order.id, amountCents: totalCents, currency: CURRENCY };
      await settle(
        order,
        priced,
        totalCents,
        await chargeOrder(deps.paymentsUrl, charge, deps.paymentsTimeoutMs, deps.faults),
      );
      const result = await load(order.id);
      outcome = result.status;
      if (result.status === 'declined') {
        throw new AppError(402, 'PAYMENT_DECLINED', 'the payment was declined', { orderId: order.id });
      }
      return { order: result, replayed: false };
    } finally {
      const value = Number(process.hrtime.bigint() - started) / 1e9;
      duration.observe({ labels: { outcome }, value, exemplarLabels: traceExemplar() });
    }
  }

  async function getOrder(caller: Caller, id: string): Promise<Order> {
    const order = await load(id);
    const allowed = order.userId === caller.userId || caller.roles.includes('admin');
    if (!allowed) throw forbidden('this order belongs to someone else');
    return order;
  }

  async function listOrders(caller: Caller, page: number, pageSize: number): Promise<Order[]> {
    const rows = await db.listOrders(pool, caller.userId, pageSize, (page - 1) * pageSize);
    const ids = rows.map((row) => row.id);
    const lines = await db.findLines(pool, ids);
    return rows.map((row) =>
      present(
        row,
        lines.filter((line) => line.orderId === row.id),
      ),
    );
  }

  return { checkout, getOrder, listOrders };
}
