import type { Logger } from '@shopnow/kit';
import type { Pool } from '@shopnow/kit/mysql';
import { countStockUpTo, insertStock } from './db';

const BATCH = 1_000;

/**
 * Stock for products 1..count, the ids catalog seeds too: the two agree on ids without reading
 * each other's schema. Safe to run at every start; existing stock is never reset.
 */
export async function seedStock(pool: Pool, count: number, initialStock: number, log: Logger): Promise<void> {
  if (count <= 0 || (await countStockUpTo(pool, count)) === count) return;
  for (let first = 1; first <= count; first += BATCH) {
    const ids = Array.from({ length: Math.min(BATCH, count - first + 1) }, (_, i) => first + i);
    await insertStock(pool, ids, initialStock);
  }
  log.info('stock seeded', { count, initialStock });
}
