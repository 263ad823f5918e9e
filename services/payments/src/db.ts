import type { Pool, PoolConnection } from '@shopnow/kit/mysql';
import type { RowDataPacket } from 'mysql2/promise';

export interface Payment {
  id: string;
  orderId: string;
  amountCents: number;
  currency: string;
  status: 'approved' | 'declined';
  declineReason?: string;
  createdAt: string;
}

const COLUMNS = 'id, order_id, amount_cents, currency, status, decline_reason, created_at';

function toPayment(row: RowDataPacket): Payment {
  const payment: Payment = {
    id: row.id as string,
    orderId: row.order_id as string,
    amountCents: Number(row.amount_cents),
    currency: row.currency as string,
    status: row.status as Payment['status'],
    createdAt: (row.created_at as Date).toISOString(),
  };
  if (row.decline_reason) payment.declineReason = row.decline_reason as string;
  return payment;
}

/**
 * Claims the idempotency key. Inside an open transaction the new row stays locked, so a concurrent
 * insert of the same key waits here until this transaction ends, then fails with ER_DUP_ENTRY.
 */
export async function insertPendingPayment(
  conn: PoolConnection,
  payment: { id: string; idempotencyKey: string; orderId: string; amountCents: number; currency: string },
): Promise<void> {
  await conn.execute(
    "INSERT INTO payments (id, idempotency_key, order_id, amount_cents, currency, status) VALUES (?, ?, ?, ?, ?, 'pending')",
    [payment.id, payment.idempotencyKey, payment.orderId, payment.amountCents, payment.currency],
  );
}

export async function settlePayment(
  conn: PoolConnection,
  id: string,
  result: { status: Payment['status']; declineReason?: string },
): Promise<void> {
  await conn.execute('UPDATE payments SET status = ?, decline_reason = ? WHERE id = ?', [
    result.status,
    result.declineReason ?? null,
    id,
  ]);
}

export async function findPaymentById(db: Pool | PoolConnection, id: string): Promise<Payment | undefined> {
  const [rows] = await db.execute<RowDataPacket[]>(`SELECT ${COLUMNS} FROM payments WHERE id = ?`, [id]);
  return rows[0] && toPayment(rows[0]);
}

export async function findPaymentByKey(pool: Pool, idempotencyKey: string): Promise<Payment | undefined> {
  const [rows] = await pool.execute<RowDataPacket[]>(`SELECT ${COLUMNS} FROM payments WHERE idempotency_key = ?`, [
    idempotencyKey,
  ]);
  return rows[0] && toPayment(rows[0]);
}
