import { orderEvent } from '@shopnow/kit';
import type { RowDataPacket } from 'mysql2';
import { bodyOf, newKey, newUserId, postOrder, startHarness, type Harness } from './harness';

// Real MariaDB (the test_orders schema); catalog and payments are the HTTP doubles of ./doubles.
describe('POST /orders', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ paymentsTimeoutMs: 300 });
  });
  afterAll(() => h.close());
  afterEach(() => {
    h.payments.decide = () => 'approved';
    h.payments.delayMs = 0;
  });

  const select = async (sql: string, params: unknown[]) => (await h.pool.query<RowDataPacket[]>(sql, params))[0];
  const outboxOf = (orderId: string) =>
    select(
      "SELECT event_type, payload, trace_context FROM outbox WHERE JSON_VALUE(payload, '$.order.id') = ? ORDER BY event_type",
      [orderId],
    );
  const orderRow = async (id: string) =>
    (await select('SELECT status, total_cents, payment_id FROM orders WHERE id = ?', [id]))[0];
  const cart = {
    items: [
      { productId: 1, quantity: 2 },
      { productId: 2, quantity: 1 },
    ],
  };

  it('charges the priced total and stores the paid order, its lines and its two events', async () => {
    const userId = newUserId();
    const res = await postOrder(h.base, userId, newKey(), cart);
    expect(res.status).toBe(201);
    const { order } = await bodyOf(res);
    expect(order).toEqual({
      id: expect.any(String),
      userId,
      status: 'paid',
      totalCents: 2 * 1250 + 999,
      currency: 'EUR',
      items: [
        { productId: 1, quantity: 2, priceCents: 1250 },
        { productId: 2, quantity: 1, priceCents: 999 },
      ],
      paymentId: expect.any(String),
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(h.payments.callsFor(order.id)).toEqual([
      { key: order.id, body: { orderId: order.id, amountCents: 3499, currency: 'EUR' } },
    ]);
    expect(
      await select('SELECT product_id, quantity, price_cents FROM order_items WHERE order_id = ? ORDER BY product_id', [
        order.id,
      ]),
    ).toEqual([
      { product_id: 1, quantity: 2, price_cents: 1250 },
      { product_id: 2, quantity: 1, price_cents: 999 },
    ]);
    const events = await outboxOf(order.id);
    expect(events.map((row) => row.event_type)).toEqual(['order.created', 'order.paid']);
    for (const row of events) {
      const payload = orderEvent.parse(row.payload);
      expect(payload).toMatchObject({
        type: row.event_type,
        order: { id: order.id, userId, totalCents: 3499, items: order.items },
      });
      expect(row.trace_context).toEqual({});
    }
  });

  it('records the outcome and its events in one transaction: when the events cannot be written, the order stays pending', async () => {
    const userId = newUserId();
    const trigger = `refuse_outbox_${userId}`;
    await h.pool.query(
      `CREATE TRIGGER ${trigger} BEFORE INSERT ON outbox FOR EACH ROW
       IF JSON_VALUE(NEW.payload, '$.order.userId') = ${userId} THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'outbox refused'; END IF`,
    );
    const key = newKey();
    try {
      expect((await postOrder(h.base, userId, key, cart)).status).toBe(500);
    } finally {
      await h.pool.query(`DROP TRIGGER ${trigger}`);
    }
    const [pending] = await select('SELECT id, status, payment_id FROM orders WHERE user_id = ?', [userId]);
    expect(pending).toMatchObject({ status: 'pending', payment_id: null });
    expect(await outboxOf(pending.id)).toEqual([]);

    const retried = await postOrder(h.base, userId, key, cart);
    expect(retried.status).toBe(201);
    expect((await bodyOf(retried)).order).toMatchObject({ id: pending.id, status: 'paid' });
    expect(await outboxOf(pending.id)).toHaveLength(2);
    expect(new Set(h.payments.callsFor(pending.id).map((call) => call.key))).toEqual(new Set([pending.id]));
  });

  it('answers a declined payment with 402, stores the order as declined and writes no events', async () => {
    h.payments.decide = () => 'declined';
    const key = newKey();
    const userId = newUserId();
    const res = await postOrder(h.base, userId, key, cart);
    expect(res.status).toBe(402);
    const { error } = await bodyOf(res);
    expect(error).toMatchObject({ code: 'PAYMENT_DECLINED', details: { orderId: expect.any(String) } });
    expect(await orderRow(error.details.orderId)).toMatchObject({
      status: 'declined',
      total_cents: 3499,
      payment_id: expect.any(String),
    });
    expect(await outboxOf(error.details.orderId)).toEqual([]);

    const replay = await postOrder(h.base, userId, key, cart);
    expect(replay.status).toBe(200);
    expect((await bodyOf(replay)).order).toMatchObject({ id: error.details.orderId, status: 'declined' });
  });

  it('replays a repeated request (lines in any order) with the stored order, without charging again', async () => {
    const userId = newUserId();
    const key = newKey();
    const first = await bodyOf(await postOrder(h.base, userId, key, cart));
    const again = await postOrder(h.base, userId, key, { items: [...cart.items].reverse() });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await bodyOf(again)).toEqual(first);
    expect(h.payments.callsFor(first.order.id)).toHaveLength(1);
  });

  it('refuses a key reused for another request with 422', async () => {
    const userId = newUserId();
    const key = newKey();
    expect((await postOrder(h.base, userId, key, cart)).status).toBe(201);
    const reused = await postOrder(h.base, userId, key, { items: [{ productId: 3, quantity: 1 }] });
    expect(reused.status).toBe(422);
    expect((await bodyOf(reused)).error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    // Keys belong to a caller: another user may use the same one.
    expect((await postOrder(h.base, newUserId(), key, cart)).status).toBe(201);
  });

  it('keeps the order pending while payments is down (503), and the retry with the same key completes it', async () => {
    const userId = newUserId();
    const key = newKey();
    await h.payments.stop();
    let down: Response;
    try {
      down = await postOrder(h.base, userId, key, cart);
    } finally {
      await h.payments.start();
    }
    expect(down.status).toBe(503);
    expect((await bodyOf(down)).error.code).toBe('DEPENDENCY_UNAVAILABLE');
    const [pending] = await select('SELECT id, status, total_cents FROM orders WHERE user_id = ?', [userId]);
    expect(pending).toMatchObject({ status: 'pending', total_cents: 3499 });

    const retried = await postOrder(h.base, userId, key, cart);
    expect(retried.status).toBe(201);
    expect((await bodyOf(retried)).order).toMatchObject({ id: pending.id, status: 'paid' });
  });

  it('answers 504 when payments is too slow, and the retry is not charged twice', async () => {
    const userId = newUserId();
    const key = newKey();
    h.payments.delayMs = 1_000;
    const slow = await postOrder(h.base, userId, key, cart);
    expect(slow.status).toBe(504);
    expect((await bodyOf(slow)).error.code).toBe('DEPENDENCY_TIMEOUT');
    h.payments.delayMs = 0;
    const retried = await postOrder(h.base, userId, key, cart);
    expect(retried.status).toBe(201);
    const { order } = await bodyOf(retried);
    const calls = h.payments.callsFor(order.id);
    expect(calls).toHaveLength(2);
    expect(new Set(calls.map((call) => call.key))).toEqual(new Set([order.id]));
  });

  it('answers 422 naming a product the catalog does not know, without charging', async () => {
    const before = h.payments.calls.length;
    const res = await postOrder(h.base, newUserId(), newKey(), {
      items: [
        { productId: 1, quantity: 1 },
        { productId: 404404, quantity: 1 },
      ],
    });
    expect(res.status).toBe(422);
    expect((await bodyOf(res)).error).toMatchObject({
      code: 'UNKNOWN_PRODUCT',
      message: expect.stringContaining('404404'),
      details: { productId: 404404 },
    });
    expect(h.payments.calls.length).toBe(before);
  });

  const line = { productId: 1, quantity: 1 };
  it.each([
    ['a negative quantity', { items: [{ productId: 1, quantity: -1 }] }],
    ['a quantity over 100', { items: [{ productId: 1, quantity: 101 }] }],
    ['a fractional quantity', { items: [{ productId: 1, quantity: 1.5 }] }],
    ['a product id that is a string', { items: [{ productId: '1', quantity: 1 }] }],
    ['a product id of 0', { items: [{ productId: 0, quantity: 1 }] }],
    ['items that are not a list', { items: { productId: 1, quantity: 1 } }],
    ['an unknown field', { items: [line], coupon: 'FREE' }],
    ['an unknown field in a line', { items: [{ ...line, price: 1 }] }],
    ['no items', { items: [] }],
    ['21 items', { items: Array.from({ length: 21 }, (_, i) => ({ productId: i + 1, quantity: 1 })) }],
    ['the same product twice', { items: [line, line] }],
    ['no body', undefined],
  ])('answers 400 to %s', async (_name, body) => {
    const res = await postOrder(h.base, newUserId(), newKey(), body);
    expect(res.status).toBe(400);
    expect((await bodyOf(res)).error.code).toBe('VALIDATION_FAILED');
  });

  it.each([
    ['no Idempotency-Key', undefined],
    ['a key too short', 'short'],
    ['a key with spaces', 'has spaces in it'],
    ['a key too long', 'k'.repeat(129)],
  ])('answers 400 to %s', async (_name, key) => {
    const res = await postOrder(h.base, newUserId(), key, cart);
    expect(res.status).toBe(400);
    expect((await bodyOf(res)).error.message).toContain('headers.idempotency-key');
  });

  it('answers 401 to a request without an identity', async () => {
    const res = await fetch(`${h.base}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': newKey() },
      body: JSON.stringify(cart),
    });
    expect(res.status).toBe(401);
  });
});
