import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { startPayments, type Harness, type Payment } from './harness';

const newKey = () => `test-${randomUUID()}`;

function pay(h: Harness, body: unknown, key: string | undefined = newKey()) {
  return h.request<{ payment: Payment }>('POST', '/payments', {
    body,
    headers: key === undefined ? {} : { 'idempotency-key': key },
  });
}

/** Sum of the samples of a metric whose line matches `selector`, from the text exposition. */
function sample(text: string, selector: RegExp): number {
  return text
    .split('\n')
    .filter((line) => selector.test(line))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

describe('with a provider that always approves', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startPayments({ latencyMs: 0, declineRate: 0 });
  });
  afterAll(() => h.close());

  test('a charge is approved, stored and readable', async () => {
    const orderId = randomUUID();
    const res = await pay(h, { orderId, amountCents: 1999 });
    expect(res.status).toBe(201);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
    expect(res.body.payment).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      orderId,
      amountCents: 1999,
      currency: 'EUR',
      status: 'approved',
      createdAt: expect.any(String),
    });
    expect(await h.countPayments(orderId)).toBe(1);
    const read = await h.request<{ payment: Payment }>('GET', `/payments/${res.body.payment.id}`);
    expect(read.status).toBe(200);
    expect(read.body.payment).toEqual(res.body.payment);
  });

  test('the same key and body again replays the stored payment without a second charge', async () => {
    const orderId = randomUUID();
    const key = newKey();
    const first = await pay(h, { orderId, amountCents: 500, currency: 'USD' }, key);
    const again = await pay(h, { orderId, amountCents: 500, currency: 'USD' }, key);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.payment).toEqual(first.body.payment);
    expect(await h.countPayments(orderId)).toBe(1);
  });

  test('the same key with a different body is a 422', async () => {
    const orderId = randomUUID();
    const key = newKey();
    expect((await pay(h, { orderId, amountCents: 500 }, key)).status).toBe(201);
    const reused = await h.request('POST', '/payments', {
      body: { orderId, amountCents: 501 },
      headers: { 'idempotency-key': key },
    });
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await h.countPayments(orderId)).toBe(1);
  });

  test.each([
    ['missing', undefined],
    ['too short', 'short'],
    ['too long', 'k'.repeat(129)],
    ['with forbidden characters', 'key with spaces!'],
  ])('an Idempotency-Key %s is a 400', async (_case, key) => {
    const orderId = randomUUID();
    const res = await h.request('POST', '/payments', {
      body: { orderId, amountCents: 100 },
      headers: key === undefined ? {} : { 'idempotency-key': key },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(await h.countPayments(orderId)).toBe(0);
  });

  test.each([
    ['an orderId that is not a uuid', { orderId: '42', amountCents: 100 }],
    ['a zero amount', { orderId: randomUUID(), amountCents: 0 }],
    ['a fractional amount', { orderId: randomUUID(), amountCents: 10.5 }],
    ['an amount over the limit', { orderId: randomUUID(), amountCents: 10_000_001 }],
    ['an amount as a string', { orderId: randomUUID(), amountCents: '100' }],
    ['a lowercase currency', { orderId: randomUUID(), amountCents: 100, currency: 'eur' }],
    ['an unknown field', { orderId: randomUUID(), amountCents: 100, card: '4242' }],
    ['no body', undefined],
  ])('a body with %s is a 400', async (_case, body) => {
    const res = await h.request('POST', '/payments', { body, headers: { 'idempotency-key': newKey() } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });

  test('an unknown payment id is a 404, a malformed one a 400', async () => {
    expect((await h.request('GET', `/payments/${randomUUID()}`)).status).toBe(404);
    expect((await h.request('GET', '/payments/not-a-uuid')).status).toBe(400);
  });

  test('/metrics counts processed payments and passes promtool check metrics', async () => {
    await pay(h, { orderId: randomUUID(), amountCents: 100 });
    const { status, text } = await h.request('GET', '/metrics');
    expect(status).toBe(200);
    expect(text).toMatch(/^payments_processed_total\{outcome="approved"\} [1-9]\d*$/m);
    expect(text).toMatch(/^payments_processed_total\{outcome="declined"\} 0$/m);
    expect(text).toMatch(/^payment_provider_request_duration_seconds_bucket\{le="0\.1",outcome="approved"\} /m);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.stderr + check.stdout).toBe('');
    expect(check.status).toBe(0);
  });
});

describe('with a provider that always declines', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startPayments({ latencyMs: 0, declineRate: 1 });
  });
  afterAll(() => h.close());

  test('the payment is stored as declined, with a reason', async () => {
    const orderId = randomUUID();
    const res = await pay(h, { orderId, amountCents: 100 });
    expect(res.status).toBe(201);
    expect(res.body.payment).toMatchObject({ orderId, status: 'declined', declineReason: 'card_declined' });
    const { text } = await h.request('GET', '/metrics');
    expect(text).toMatch(/^payments_processed_total\{outcome="declined"\} 1$/m);
  });
});

describe('with a provider slow enough for requests to overlap', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startPayments({ latencyMs: 50, declineRate: 0 });
  });
  afterAll(() => h.close());

  test('20 concurrent requests with one key make one payment and one provider call', async () => {
    const before = await h.request('GET', '/metrics');
    const orderId = randomUUID();
    const key = newKey();
    const replies = await Promise.all(Array.from({ length: 20 }, () => pay(h, { orderId, amountCents: 4200 }, key)));
    expect(replies.map((r) => r.status).sort()).toEqual([...Array(19).fill(200), 201]);
    expect(new Set(replies.map((r) => r.body.payment.id)).size).toBe(1);
    expect(await h.countPayments(orderId)).toBe(1);
    const after = await h.request('GET', '/metrics');
    const calls = (text: string) => sample(text, /^payment_provider_request_duration_seconds_count\{/);
    expect(calls(after.text) - calls(before.text)).toBe(1);
  });
});
