import type { Pool, PoolConnection } from '@shopnow/kit/mysql';
import type { ResultSetHeader, RowDataPacket } from 'mysql2';

/** Every query runs on the pool, or on a connection when it belongs to a transaction. */
type Db = Pool | PoolConnection;

export type OrderStatus = 'pending' | 'paid' | 'declined';

export interface OrderRow {
  id: string;
  userId: number;
  requestHash: string;
  status: OrderStatus;
  totalCents: number | null;
  currency: string;
  paymentId: string | null;
  createdAt: Date;
}

export interface LineRow {
  orderId: string;
  productId: number;
  quantity: number;
  priceCents: number;
}

export interface OutboxRow {
  id: string;
  eventType: string;
  payload: unknown;
  traceContext: Record<string, string>;
  createdAt: Date;
}

/**
 * Every connection of the pool reads committed data. Under MySQL's default REPEATABLE READ the
 * relay's locking read (FOR UPDATE over the unpublished events) also locks the gap where new events
 * go, so each checkout's outbox insert would wait for the relay's publishes: a slow broker would
 * slow checkout, the very coupling the outbox exists to remove.
 */
export function useReadCommitted(pool: Pool): Pool {
  // Queued ahead of the first query of each new connection; a connection that refuses it is dropped.
  pool.pool.on('connection', (conn) =>
    conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED', (err) => err && conn.destroy()),
  );
  return pool;
}

const ORDER_COLUMNS = `id, user_id AS userId, request_hash AS requestHash, status, total_cents AS totalCents,
  currency, payment_id AS paymentId, created_at AS createdAt`;

/**
 * Inserts a pending order unless the caller already holds this key, then returns whichever order
 * holds it: ours, or the one an earlier request with the same key created.
 */
export async function claimOrder(
  db: Db,
  order: { id: string; userId: number; idempotencyKey: string; requestHash: string; createdAt: Date },
): Promise<OrderRow> {
  await db.query(
    `INSERT INTO orders (id, user_id, idempotency_key, request_hash, status, created_at)
     VALUES (?, ?, ?, ?, 'pending', ?) ON DUPLICATE KEY UPDATE id = id`,
    [order.id, order.userId, order.idempotencyKey, order.requestHash, order.createdAt],
  );
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT ${ORDER_COLUMNS} FROM orders WHERE idempotency_key = ? AND user_id = ?`,
    [order.idempotencyKey, order.userId],
  );
  return rows[0] as OrderRow;
}

export async function findOrder(db: Db, id: string): Promise<OrderRow | undefined> {
  const [rows] = await db.query<RowDataPacket[]>(`SELECT ${ORDER_COLUMNS} FROM orders WHERE id = ?`, [id]);
  return rows[0] as OrderRow | undefined;
}

/** A user's orders, newest first: served by the index (user_id, created_at). */
export async function listOrders(db: Db, userId: number, limit: number, offset: number): Promise<OrderRow[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT ${ORDER_COLUMNS} FROM orders WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`,
    [userId, limit, offset],
  );
  return rows as OrderRow[];
}

export async function findLines(db: Db, orderIds: string[]): Promise<LineRow[]> {
  if (orderIds.length === 0) return [];
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT order_id AS orderId, product_id AS productId, quantity, price_cents AS priceCents
     FROM order_items WHERE order_id IN (?) ORDER BY product_id`,
    [orderIds],
  );
  return rows as LineRow[];
}

export async function insertLines(db: Db, lines: LineRow[]): Promise<void> {
  await db.query('INSERT INTO order_items (order_id, product_id, quantity, price_cents) VALUES ?', [
    lines.map((line) => [line.orderId, line.productId, line.quantity, line.priceCents]),
  ]);
}

/** Sets the total of an order not priced yet; false when another request priced it first. */
export async function setTotal(db: Db, id: string, totalCents: number): Promise<boolean> {
  const [result] = await db.query<ResultSetHeader>(
    'UPDATE orders SET total_cents = ? WHERE id = ? AND total_cents IS NULL',
    [totalCents, id],
  );
  return result.affectedRows === 1;
}

/** Moves a pending order to its outcome; false when another request settled it first. */
export async function settleOrder(
  db: Db,
  id: string,
  status: 'paid' | 'declined',
  paymentId: string,
): Promise<boolean> {
  const [result] = await db.query<ResultSetHeader>(
    "UPDATE orders SET status = ?, payment_id = ? WHERE id = ? AND status = 'pending'",
    [status, paymentId, id],
  );
  return result.affectedRows === 1;
}

export async function insertOutbox(db: Db, rows: OutboxRow[]): Promise<void> {
  await db.query('INSERT INTO outbox (id, event_type, payload, trace_context, created_at) VALUES ?', [
    rows.map((row) => [
      row.id,
      row.eventType,
      JSON.stringify(row.payload),
      JSON.stringify(row.traceContext),
      row.createdAt,
    ]),
  ]);
}

/** The oldest unpublished events, locked; SKIP LOCKED lets a second relay take the next ones instead of waiting. */
export async function lockUnpublished(db: Db, limit: number): Promise<OutboxRow[]> {
  const [rows] = await db.query<RowDataPacket[]>(
    `SELECT id, event_type AS eventType, payload, trace_context AS traceContext, created_at AS createdAt
     FROM outbox WHERE published_at IS NULL ORDER BY created_at LIMIT ? FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  // mysql2 parses JSON columns itself, from MySQL 8 and from MariaDB (which flags them as json).
  return rows as OutboxRow[];
}

export async function markPublished(db: Db, ids: string[], publishedAt: Date): Promise<void> {
  if (ids.length === 0) return;
  await db.query('UPDATE outbox SET published_at = ? WHERE id IN (?)', [publishedAt, ids]);
}

export async function outboxBacklog(db: Db): Promise<{ messages: number; oldest: Date | null }> {
  const [rows] = await db.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS messages, MIN(created_at) AS oldest FROM outbox WHERE published_at IS NULL',
  );
  return { messages: Number(rows[0].messages), oldest: rows[0].oldest as Date | null };
}

export async function countSeededOrders(db: Db): Promise<number> {
  const [rows] = await db.query<RowDataPacket[]>(
    "SELECT COUNT(*) AS n FROM orders WHERE idempotency_key LIKE 'seed:%'",
  );
  return Number(rows[0].n);
}

export async function insertOrders(db: Db, orders: Array<OrderRow & { idempotencyKey: string }>): Promise<void> {
  await db.query(
    'INSERT INTO orders (id, user_id, idempotency_key, request_hash, status, total_cents, currency, payment_id, created_at) VALUES ?',
    [
      orders.map((o) => [
        o.id,
        o.userId,
        o.idempotencyKey,
        o.requestHash,
        o.status,
        o.totalCents,
        o.currency,
        o.paymentId,
        o.createdAt,
      ]),
    ],
  );
}
