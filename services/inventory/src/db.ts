import type { Pool, PoolConnection } from '@shopnow/kit/mysql';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';

type Queryable = Pool | PoolConnection;
export type ReservationStatus = 'reserved' | 'rejected';
export interface Line {
  productId: number;
  quantity: number;
}

/** False when the order already has a reservation: the event was applied before. */
export async function insertReservation(conn: Queryable, orderId: string): Promise<boolean> {
  try {
    await conn.query("INSERT INTO reservations (order_id, status) VALUES (?, 'reserved')", [orderId]);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'ER_DUP_ENTRY') return false;
    throw err;
  }
}

export async function insertReservationLines(conn: Queryable, orderId: string, lines: Line[]): Promise<void> {
  await conn.query('INSERT INTO reservation_lines (order_id, product_id, quantity) VALUES ?', [
    lines.map((line) => [orderId, line.productId, line.quantity]),
  ]);
}

export async function rejectReservation(conn: Queryable, orderId: string): Promise<void> {
  await conn.query("UPDATE reservations SET status = 'rejected' WHERE order_id = ?", [orderId]);
}

/** Takes the quantity only if it is there: false (nothing changed) when stock is short or unknown. */
export async function decrementStock(conn: Queryable, line: Line): Promise<boolean> {
  const [result] = await conn.query<ResultSetHeader>(
    'UPDATE stock SET available = available - ? WHERE product_id = ? AND available >= ?',
    [line.quantity, line.productId, line.quantity],
  );
  return result.affectedRows === 1;
}

export async function savepoint(conn: PoolConnection): Promise<void> {
  await conn.query('SAVEPOINT before_stock');
}

export async function rollbackToSavepoint(conn: PoolConnection): Promise<void> {
  await conn.query('ROLLBACK TO SAVEPOINT before_stock');
}

export async function findStock(pool: Pool, productId: number): Promise<number | undefined> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT available FROM stock WHERE product_id = ?', [productId]);
  return rows[0]?.available;
}

export async function findReservation(pool: Pool, orderId: string) {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT status FROM reservations WHERE order_id = ?', [orderId]);
  if (rows.length === 0) return undefined;
  const [lines] = await pool.query<RowDataPacket[]>(
    'SELECT product_id, quantity FROM reservation_lines WHERE order_id = ? ORDER BY product_id',
    [orderId],
  );
  return {
    status: rows[0].status as ReservationStatus,
    items: lines.map((line): Line => ({ productId: Number(line.product_id), quantity: Number(line.quantity) })),
  };
}

export async function countStockUpTo(pool: Pool, maxProductId: number): Promise<number> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM stock WHERE product_id BETWEEN 1 AND ?', [
    maxProductId,
  ]);
  return Number(rows[0].n);
}

/** Leaves the stock of a product that already has a row as it is. */
export async function insertStock(pool: Pool, productIds: number[], available: number): Promise<void> {
  await pool.query(
    'INSERT INTO stock (product_id, available) VALUES ? ON DUPLICATE KEY UPDATE product_id = product_id',
    [productIds.map((id) => [id, available])],
  );
}
