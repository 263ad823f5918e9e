import { execFileSync } from 'node:child_process';
import type { Product, ProductPage } from '../src/products';
import { bodyOf, metricValue, put, redisDatabase, redisReady, startCatalog } from './support';

type ProductBody = { product: Product };

const HIT = 'cache_requests_total{cache="products",result="hit"}';
const MISS = 'cache_requests_total{cache="products",result="miss"}';
const ERROR = 'cache_requests_total{cache="products",result="error"}';

describe('cache-aside in front of MySQL (MariaDB, Redis)', () => {
  let catalog: Awaited<ReturnType<typeof startCatalog>>;
  const get = (path: string) => fetch(`${catalog.base}${path}`);
  const counts = async () => ({
    hit: await metricValue(catalog.base, HIT),
    miss: await metricValue(catalog.base, MISS),
  });

  beforeAll(async () => {
    catalog = await startCatalog(redisDatabase(9), 'catalog-8092');
    await redisReady(catalog.redis);
    // Entries left by an earlier run would turn the first lookups below into hits.
    await catalog.redis.del('catalog:product:7', 'catalog:product:8');
    await catalog.redis.incr('catalog:products:version');
  });
  afterAll(() => catalog.stop());

  it('misses on the first read of a product, then hits', async () => {
    const start = await counts();
    const first = await get('/products/7');
    const second = await get('/products/7');
    expect(await second.json()).toEqual(await first.json());
    expect(await counts()).toEqual({ hit: start.hit + 1, miss: start.miss + 1 });
  });

  it('caches list pages the same way', async () => {
    const start = await counts();
    await get('/products?page=2&pageSize=5');
    await get('/products?page=2&pageSize=5');
    expect(await counts()).toEqual({ hit: start.hit + 1, miss: start.miss + 1 });
  });

  it('invalidates the product and the list pages when an admin changes a price', async () => {
    const price = 1_000 + Math.floor(Math.random() * 100_000);
    await get('/products/8');
    await get('/products?page=1&pageSize=10');
    const start = await counts();
    expect((await put(`${catalog.base}/products/8`, { priceCents: price })).status).toBe(200);
    expect((await bodyOf<ProductBody>(await get('/products/8'))).product.priceCents).toBe(price);
    const page = await bodyOf<ProductPage>(await get('/products?page=1&pageSize=10'));
    expect(page.products.find((p) => p.id === 8)?.priceCents).toBe(price);
    expect(await counts()).toEqual({ hit: start.hit, miss: start.miss + 2 });
    expect(await metricValue(catalog.base, 'catalog_product_updates_total')).toBeGreaterThanOrEqual(1);
  });

  it('names the replica that answered in x-served-by, on errors too', async () => {
    expect((await get('/products/1')).headers.get('x-served-by')).toBe('catalog-8092');
    expect((await get('/products/abc')).headers.get('x-served-by')).toBe('catalog-8092');
    expect((await get('/nowhere')).headers.get('x-served-by')).toBe('catalog-8092');
  });

  it('exports metrics that promtool accepts, with Redis reported up', async () => {
    const text = await (await get('/metrics')).text();
    expect(text).toContain('cache_backend_up 1');
    expect(() => execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })).not.toThrow();
  });
});

describe('with Redis unreachable (MariaDB only)', () => {
  let catalog: Awaited<ReturnType<typeof startCatalog>>;
  beforeAll(async () => {
    catalog = await startCatalog('redis://127.0.0.1:1');
  });
  afterAll(() => catalog.stop());

  it('still answers from MySQL, counts the cache errors and stays ready', async () => {
    const detail = await fetch(`${catalog.base}/products/3`);
    expect(detail.status).toBe(200);
    expect((await bodyOf<ProductBody>(detail)).product.id).toBe(3);
    expect((await fetch(`${catalog.base}/products?pageSize=3`)).status).toBe(200);
    expect(await metricValue(catalog.base, ERROR)).toBe(2);
    expect(await metricValue(catalog.base, 'cache_backend_up')).toBe(0);
    expect((await fetch(`${catalog.base}/health/ready`)).status).toBe(200);
  });

  it('still accepts an update, which MySQL keeps', async () => {
    const res = await put(`${catalog.base}/products/9`, { description: 'Changed while Redis was away.' });
    expect(res.status).toBe(200);
    expect((await bodyOf<ProductBody>(res)).product.description).toBe('Changed while Redis was away.');
  });
});
