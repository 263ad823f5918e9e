import { bodyOf, identity, newKey, newUserId, postOrder, startHarness, type Harness } from './harness';

// Real MariaDB (the test_orders schema); catalog and payments are the HTTP doubles of ./doubles.
describe('GET /orders and /orders/:id', () => {
  let h: Harness;
  const owner = newUserId();
  const ids: string[] = [];

  beforeAll(async () => {
    h = await startHarness();
    for (const productId of [1, 2, 3]) {
      const res = await postOrder(h.base, owner, newKey(), { items: [{ productId, quantity: 1 }] });
      ids.push((await bodyOf(res)).order.id);
    }
  });
  afterAll(() => h.close());

  const get = (path: string, userId: number, roles?: string) =>
    fetch(`${h.base}${path}`, { headers: identity(userId, roles) });

  it("lists the caller's orders newest first, a page at a time", async () => {
    const first = await get('/orders?page=1&pageSize=2', owner);
    expect(first.status).toBe(200);
    const one = await bodyOf(first);
    expect(one).toMatchObject({ page: 1, pageSize: 2 });
    const second = await bodyOf(await get('/orders?page=2&pageSize=2', owner));
    const listed = [...one.orders, ...second.orders];
    expect(listed.map((order: { id: string }) => order.id).sort()).toEqual([...ids].sort());
    const times = listed.map((order: { createdAt: string }) => order.createdAt);
    expect(times).toEqual([...times].sort().reverse());
    expect(listed[0]).toMatchObject({
      userId: owner,
      status: 'paid',
      items: [expect.objectContaining({ quantity: 1 })],
    });

    const defaults = await bodyOf(await get('/orders', owner));
    expect(defaults).toMatchObject({ page: 1, pageSize: 20 });
    expect(defaults.orders).toHaveLength(3);
    expect((await bodyOf(await get('/orders', newUserId()))).orders).toEqual([]);
  });

  it.each(['page=0', 'pageSize=0', 'pageSize=101', 'page=abc', 'sort=id'])('answers 400 to ?%s', async (query) => {
    const res = await get(`/orders?${query}`, owner);
    expect(res.status).toBe(400);
    expect((await bodyOf(res)).error.code).toBe('VALIDATION_FAILED');
  });

  it('shows an order to its owner and to an admin, and to nobody else', async () => {
    const mine = await get(`/orders/${ids[0]}`, owner);
    expect(mine.status).toBe(200);
    expect((await bodyOf(mine)).order).toMatchObject({ id: ids[0], userId: owner });
    expect((await get(`/orders/${ids[0]}`, newUserId(), 'admin')).status).toBe(200);
    const other = await get(`/orders/${ids[0]}`, newUserId(), 'customer');
    expect(other.status).toBe(403);
    expect((await bodyOf(other)).error.code).toBe('FORBIDDEN');
  });

  it.each([
    ['an unknown id', '3f1c2a9e-8b7d-4c6e-9a5b-1d2e3f4a5b6c'],
    ['a malformed id', 'not-a-uuid'],
    ['an SQL-looking id', "1' OR '1'='1"],
  ])('answers 404 to %s', async (_name, id) => {
    const res = await get(`/orders/${encodeURIComponent(id)}`, owner);
    expect(res.status).toBe(404);
    expect((await bodyOf(res)).error.code).toBe('NOT_FOUND');
  });

  it('answers 401 without an identity', async () => {
    expect((await fetch(`${h.base}/orders`)).status).toBe(401);
    expect((await fetch(`${h.base}/orders/${ids[0]}`)).status).toBe(401);
  });
});
