import type { Logger } from '@shopnow/kit';
import type { Pool } from '@shopnow/kit/mysql';
import { countProductsUpTo, insertProducts, type NewProduct } from './db';

const ADJECTIVES = ['Sturdy', 'Sleek', 'Cosy', 'Bright', 'Compact', 'Rustic', 'Vintage', 'Smart'];
const NOUNS = ['Lamp', 'Kettle', 'Backpack', 'Chair', 'Mug', 'Notebook', 'Speaker', 'Blanket', 'Clock', 'Bottle'];
const BATCH = 1_000;

/**
 * The same id always gives the same product, so catalog and inventory (which seeds stock for the
 * same ids) agree without reading each other's schema, and exercises can name a product by id.
 */
export function seededProduct(id: number): NewProduct {
  const adjective = ADJECTIVES[id % ADJECTIVES.length];
  const noun = NOUNS[Math.floor(id / ADJECTIVES.length) % NOUNS.length];
  return {
    id,
    name: `Product ${String(id).padStart(4, '0')} — ${adjective} ${noun}`,
    description: `A ${adjective.toLowerCase()} ${noun.toLowerCase()}, number ${id} of the ShopNow catalog.`,
    priceCents: 199 + ((id * 7_919) % 19_800),
  };
}

/** Products 1..count; safe to run at every start and from two replicas at once. */
export async function seedProducts(pool: Pool, count: number, log: Logger): Promise<void> {
  if (count <= 0 || (await countProductsUpTo(pool, count)) === count) return;
  for (let first = 1; first <= count; first += BATCH) {
    const ids = Array.from({ length: Math.min(BATCH, count - first + 1) }, (_, i) => first + i);
    await insertProducts(pool, ids.map(seededProduct));
  }
  log.info('products seeded', { count });
}
