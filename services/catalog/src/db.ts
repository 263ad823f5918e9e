import type { Pool } from '@shopnow/kit/mysql';
import type { RowDataPacket } from 'mysql2/promise';

export interface ProductRow extends RowDataPacket {
  id: number;
  name: string;
  description: string;
  price_cents: number;
  updated_at: Date;
}

export interface NewProduct {
  id: number;
  name: string;
  description: string;
  priceCents: number;
}

const COLUMNS = 'id, name, description, price_cents, updated_at';

export async function listProducts(pool: Pool, limit: number, offset: number): Promise<ProductRow[]> {
  const [rows] = await pool.query<ProductRow[]>(`SELECT ${COLUMNS} FROM products ORDER BY id LIMIT ? OFFSET ?`, [
    limit,
    offset,
  ]);
  return rows;
}

export async function countProducts(pool: Pool): Promise<number> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT COUNT(*) AS total FROM products');
  return Number(rows[0].total);
}

export async function findProduct(pool: Pool, id: number): Promise<ProductRow | undefined> {
  const [rows] = await pool.query<ProductRow[]>(`SELECT ${COLUMNS} FROM products WHERE id = ?`, [id]);
  return rows[0];
}

/** `pattern` is a LIKE pattern whose wildcards the caller escaped with '!'. */
export async function searchProducts(pool: Pool, pattern: string, limit: number): Promise<ProductRow[]> {
  const [rows] = await pool.query<ProductRow[]>(
    `SELECT ${COLUMNS} FROM products WHERE name LIKE ? ESCAPE '!' ORDER BY id LIMIT ?`,
    [pattern, limit],
  );
  return rows;
}

/** A field left undefined keeps its value. */
export async function updateProduct(
  pool: Pool,
  id: number,
  changes: { name?: string; description?: string; priceCents?: number },
): Promise<void> {
  await pool.query(
    `UPDATE products
        SET name = COALESCE(?, name), description = COALESCE(?, description), price_cents = COALESCE(?, price_cents)
      WHERE id = ?`,
    [changes.name ?? null, changes.description ?? null, changes.priceCents ?? null, id],
  );
}

export async function countProductsUpTo(pool: Pool, maxId: number): Promise<number> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM products WHERE id BETWEEN 1 AND ?', [
    maxId,
  ]);
  return Number(rows[0].n);
}

/** Keeps a product that already exists as it is (an admin may have changed it). */
export async function insertProducts(pool: Pool, products: NewProduct[]): Promise<void> {
  await pool.query(
    'INSERT INTO products (id, name, description, price_cents) VALUES ? ON DUPLICATE KEY UPDATE id = id',
    [products.map((p) => [p.id, p.name, p.description, p.priceCents])],
  );
}
