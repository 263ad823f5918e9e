import { AppError, prom, type Logger, type Registry } from '@shopnow/kit';
import { withTransaction, type Pool } from '@shopnow/kit/mysql';
import { randomUUID } from 'node:crypto';
import { findPaymentById, findPaymentByKey, insertPendingPayment, settlePayment, type Payment } from './db';
import type { Provider } from './provider';

export interface ChargeRequest {
  idempotencyKey: string;
  orderId: string;
  amountCents: number;
  currency: string;
}

export interface Charged {
  payment: Payment;
  /** True when the key had been used already and the stored payment is returned instead. */
  replayed: boolean;
}

const isDuplicateKey = (err: unknown) => (err as { code?: unknown }).code === 'ER_DUP_ENTRY';

/** The stored payment for a key, if the request is the same one again; a different one is refused. */
function replay(stored: Payment, request: ChargeRequest): Charged {
  const same =
    stored.orderId === request.orderId &&
    stored.amountCents === request.amountCents &&
    stored.currency === request.currency;
  if (!same)
    throw new AppError(422, 'IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was already used for a different payment');
  return { payment: stored, replayed: true };
}

export function createPayments({
  pool,
  provider,
  registry,
  log,
}: {
  pool: Pool;
  provider: Provider;
  registry: Registry;
  log: Logger;
}) {
  const processed = new prom.Counter({
    name: 'payments_processed_total',
    help: 'Payments charged at the provider, by outcome (approved, declined); replays are not counted.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of ['approved', 'declined']) processed.inc({ outcome }, 0);

  return {
    /**
     * Charges at most once per idempotency key. The key is claimed by inserting the row, and the
     * provider is called while that row is still uncommitted: concurrent requests with the same key
     * wait on its lock, then read the winner. The price is a connection held for the provider's
     * latency, which is why a slow provider can drain the pool. (A crash between the charge and the
     * commit would lose the record; a real provider is sent the key too and deduplicates on its side.)
     */
    async charge(request: ChargeRequest): Promise<Charged> {
      const stored = await findPaymentByKey(pool, request.idempotencyKey);
      if (stored) return replay(stored, request);
      try {
        const payment = await withTransaction(pool, async (conn) => {
          const id = randomUUID();
          await insertPendingPayment(conn, { id, ...request });
          const result = await provider.charge(request);
          const declineReason = result.outcome === 'declined' ? result.declineReason : undefined;
          await settlePayment(conn, id, { status: result.outcome, declineReason });
          return findPaymentById(conn, id);
        });
        if (!payment) throw new Error('the payment just inserted could not be read back');
        processed.inc({ outcome: payment.status });
        log.info('payment processed', { paymentId: payment.id, orderId: payment.orderId, outcome: payment.status });
        return { payment, replayed: false };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        const winner = await findPaymentByKey(pool, request.idempotencyKey);
        if (!winner) throw err;
        return replay(winner, request);
      }
    },

    get: (id: string) => findPaymentById(pool, id),
  };
}
