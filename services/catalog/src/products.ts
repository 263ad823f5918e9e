import { notFound, prom, type Faults, type Logger, type Registry } from '@shopnow/kit';
import { type Pool } from '@shopnow/kit/mysql';
import { createCache, type Redis } from '@shopnow/kit/redis';
import * as db from './db';

export interface Product {
  id: number;
  name: string;
  description: string;
  priceCents: number;
  currency: 'EUR';
  updatedAt: string;
}

export interface ProductPage {
  products: Product[];
  page: number;
  pageSize: number;
  total: number;
}

export interface ProductChanges {
  name?: string;
  description?: string;
  priceCents?: number;
}

const SEARCH_LIMIT = 50;
const productKey = (id: number) => `catalog:product:${id}`;
// Finding every cached page would take KEYS/SCAN, which block Redis. Instead page keys carry a
// version that an update bumps: the old pages are never read again and expire on their TTL.
const LIST_VERSION_KEY = 'catalog:products:version';
const pageKey = (page: number, size: number, version: string) => `catalog:products:page:${page}:${size}:v${version}`;

const toProduct = (row: db.ProductRow): Product => ({
  id: row.id,
  name: row.name,
  description: row.description,
  priceCents: row.price_cents,
  currency: 'EUR',
  updatedAt: row.updated_at.toISOString(),
});

/** What a user typed is matched literally: LIKE's wildcards (and the escape character) are escaped. */
const containsPattern = (text: string) => `%${text.replace(/[!%_]/g, '!$&')}%`;

export interface CatalogDeps {
  pool: Pool;
  redis: Redis;
  registry: Registry;
  log: Logger;
  cacheTtlSeconds: () => number;
  faults?: Faults;
}

/** Product reads go through the cache (cache-aside); writes go to MySQL and then invalidate. */
export function createCatalog({ pool, redis, registry, log, cacheTtlSeconds, faults }: CatalogDeps) {
  const cache = createCache({ redis, registry, name: 'products', ttlSeconds: cacheTtlSeconds, log, faults });
  const updates = new prom.Counter({
    name: 'catalog_product_updates_total',
    help: 'Products changed by an admin; each one invalidates its cached copy and the cached list pages.',
    registers: [registry],
  });
  new prom.Gauge({
    name: 'cache_backend_up',
    help: 'Whether Redis, the cache in front of the product reads, is connected (1) or not (0: every read goes to MySQL).',
    registers: [registry],
    collect() {
      this.set(redis.status === 'ready' ? 1 : 0);
    },
  });

  async function load(id: number): Promise<Product> {
    const row = await db.findProduct(pool, id);
    if (!row) throw notFound(`product ${id}`);
    return toProduct(row);
  }

  return {
    get: (id: number) => cache.getOrLoad(productKey(id), () => load(id)),

    async list(page: number, pageSize: number): Promise<ProductPage> {
      // With Redis away the version is unknown; the page lookup below then fails too and falls back to MySQL.
      const version = (await redis.get(LIST_VERSION_KEY).catch(() => null)) ?? '0';
      return cache.getOrLoad(pageKey(page, pageSize, version), async () => {
        const [rows, total] = await Promise.all([
          db.listProducts(pool, pageSize, (page - 1) * pageSize),
          db.countProducts(pool),
        ]);
        return { products: rows.map(toProduct), page, pageSize, total };
      });
    },

    search: async (q: string) => (await db.searchProducts(pool, containsPattern(q), SEARCH_LIMIT)).map(toProduct),

    async update(id: number, changes: ProductChanges): Promise<Product> {
      await db.updateProduct(pool, id, changes);
      const product = await load(id);
      updates.inc();
      try {
        await Promise.all([cache.invalidate(productKey(id)), redis.incr(LIST_VERSION_KEY)]);
      } catch (err) {
        // MySQL has the change; the stale copies expire on their TTL, which bounds how long readers see them.
        log.warn('cache invalidation failed', { productId: id, err: (err as Error).message });
      }
      return product;
    },
  };
}
