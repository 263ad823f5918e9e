import type { Product, ProductPage } from '../src/products';
import { seededProduct } from '../src/seed';
import { bodyOf, CUSTOMER, put, redisDatabase, SEEDED, startCatalog, type ErrorBody } from './support';

type Found = { products: Product[] };

describe('catalog HTTP API (MariaDB, Redis)', () => {
  let catalog: Awaited<ReturnType<typeof startCatalog>>;
  const get = (path: string) => fetch(`${catalog.base}${path}`);
  beforeAll(async () => {
    catalog = await startCatalog(redisDatabase(8));
  });
  afterAll(() => catalog.stop());

  it('pages through the products in id order, 20 by default', async () => {
    const first = await bodyOf<ProductPage>(await get('/products'));
    expect(first).toMatchObject({ page: 1, pageSize: 20 });
    expect(first.total).toBeGreaterThanOrEqual(SEEDED);
    expect(first.products.map((p) => p.id)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const third = await bodyOf<ProductPage>(await get('/products?page=3&pageSize=5'));
    expect(third.products.map((p) => p.id)).toEqual([11, 12, 13, 14, 15]);
    const beyond = await bodyOf<ProductPage>(await get('/products?page=100000&pageSize=100'));
    expect(beyond.products).toEqual([]);
  });

  it.each([
    'pageSize=0',
    'pageSize=101',
    'pageSize=abc',
    'page=0',
    'page=-1',
    'page=1.5',
    'page=1&page=2',
    'sort=name',
  ])('rejects %s with a 400', async (query) => {
    const res = await get(`/products?${query}`);
    expect(res.status).toBe(400);
    expect((await bodyOf<ErrorBody>(res)).error.code).toBe('VALIDATION_FAILED');
  });

  it('serves a product with its seeded, deterministic fields', async () => {
    const res = await get('/products/42');
    expect(res.status).toBe(200);
    const { product } = await bodyOf<{ product: Product }>(res);
    const seeded = seededProduct(42);
    expect(product).toEqual({
      id: 42,
      name: expect.stringContaining('Product 0042 — '),
      description: expect.any(String),
      priceCents: expect.any(Number),
      currency: 'EUR',
      updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(product.name).toBe(seeded.name);
  });

  it.each([
    ['an unknown id', '999999999', 404],
    ['a huge id beyond any row', '123456789012345', 404],
    ['a non-number', 'abc', 400],
    ['a negative number', '-1', 400],
    ['a fraction', '1.5', 400],
    ['zero', '0', 400],
    ['a number too large to be an id', '99999999999999999999', 400],
  ])('answers %s with %i, never a 500', async (_name, id, status) => {
    const res = await get(`/products/${id}`);
    expect(res.status).toBe(status);
    expect((await bodyOf<ErrorBody>(res)).error.code).toEqual(expect.any(String));
  });

  describe('search', () => {
    const literal = `Deal 100% off_now 'quoted' "double" !bang \\slash`;
    beforeAll(async () => {
      expect((await put(`${catalog.base}/products/${SEEDED}`, { name: literal })).status).toBe(200);
    });

    it('finds products by a part of their name, at most 50', async () => {
      const { products } = await bodyOf<Found>(await get(`/products/search?q=${encodeURIComponent('Product 004')}`));
      expect(products.map((p) => p.id)).toEqual([40, 41, 42, 43, 44, 45, 46, 47, 48, 49]);
      const many = await bodyOf<Found>(await get('/products/search?q=Product'));
      expect(many.products).toHaveLength(50);
    });

    it.each(['%', '_', "'", '"', '!', '\\', "100% off_now 'quoted'"])(
      'matches %s literally, not as a wildcard',
      async (q) => {
        const res = await get(`/products/search?q=${encodeURIComponent(q)}`);
        expect(res.status).toBe(200);
        const { products } = await bodyOf<Found>(res);
        expect(products.map((p) => p.id)).toContain(SEEDED);
        for (const product of products) expect(product.name).toContain(q);
      },
    );

    it.each(["' OR 1=1 --", "x'; DROP TABLE products; --", '%%%%', '____'])(
      'returns only literal matches for %s',
      async (q) => {
        const res = await get(`/products/search?q=${encodeURIComponent(q)}`);
        expect(res.status).toBe(200);
        expect((await bodyOf<Found>(res)).products).toEqual([]);
      },
    );

    it.each(['', 'q=' + 'x'.repeat(101), 'q=a&q=b', 'q=a&limit=5'])(
      'rejects the query "%s" with a 400',
      async (query) => {
        expect((await get(`/products/search?${query}`)).status).toBe(400);
      },
    );
  });

  describe('update', () => {
    const id = SEEDED - 1;
    it('lets an admin change a product, and keeps the fields not sent', async () => {
      const before = (await bodyOf<{ product: Product }>(await get(`/products/${id}`))).product;
      const res = await put(`${catalog.base}/products/${id}`, { priceCents: 4_242, description: 'Now cheaper.' });
      expect(res.status).toBe(200);
      expect((await bodyOf<{ product: Product }>(res)).product).toMatchObject({
        id,
        name: before.name,
        priceCents: 4_242,
        description: 'Now cheaper.',
      });
    });

    it('refuses customers (403) and anonymous callers (401)', async () => {
      expect((await put(`${catalog.base}/products/${id}`, { priceCents: 1 }, CUSTOMER)).status).toBe(403);
      expect((await put(`${catalog.base}/products/${id}`, { priceCents: 1 }, {})).status).toBe(401);
    });

    it.each([
      ['an unknown field', { priceCents: 100, stock: 5 }],
      ['an empty change', {}],
      ['a zero price', { priceCents: 0 }],
      ['a fractional price', { priceCents: 1.5 }],
      ['a price over the limit', { priceCents: 10_000_001 }],
      ['a price as a string', { priceCents: '100' }],
      ['an empty name', { name: '   ' }],
      ['a body that is not an object', [1, 2]],
    ])('rejects %s with a 400', async (_name, body) => {
      const res = await put(`${catalog.base}/products/${id}`, body);
      expect(res.status).toBe(400);
      expect((await bodyOf<ErrorBody>(res)).error.code).toBe('VALIDATION_FAILED');
    });

    it('answers 404 for a product that does not exist and 400 for a bad id', async () => {
      expect((await put(`${catalog.base}/products/999999999`, { priceCents: 100 })).status).toBe(404);
      expect((await put(`${catalog.base}/products/abc`, { priceCents: 100 })).status).toBe(400);
    });
  });
});
