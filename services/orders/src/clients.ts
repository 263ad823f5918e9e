import { AppError, callService, unavailable, type Faults } from '@shopnow/kit';
import { z } from 'zod';

// The synchronous half of a checkout: two HTTP calls, each with a deadline. callService turns an
// unreachable neighbour into a 503 and a slow one into a 504; what they answer is checked here.

const catalogAnswer = z.object({ product: z.object({ priceCents: z.number().int().nonnegative() }) });
const paymentAnswer = z.object({
  payment: z.object({ id: z.union([z.string().min(1), z.number().int()]), status: z.enum(['approved', 'declined']) }),
});

export type Payment = z.infer<typeof paymentAnswer>['payment'];

/** Where nothing listens: port 1 on loopback refuses every connection. */
const WRONG_ADDRESS = 'http://127.0.0.1:1';

/** The base URL a dependency is called at. */
function addressOf(dependency: 'catalog' | 'payments', configured: string, faults?: Faults): string {
  // FAULT(dependency-unreachable): a bad config push points the client at a wrong address.
  if (faults?.active('dependency-unreachable')?.dependency === dependency) return WRONG_ADDRESS;
  return configured;
}

/** A dependency that answers 5xx is down for us too; any other surprise is a broken contract. */
function dependencyFailed(dependency: string, status: number): AppError {
  if (status >= 500) return unavailable(dependency);
  return new AppError(502, 'BAD_DEPENDENCY_RESPONSE', `${dependency} answered ${status}`);
}

/** The current price of a product; an id the catalog does not know is the client's mistake (422). */
export async function fetchPrice(
  catalogUrl: string,
  productId: number,
  timeoutMs: number,
  faults?: Faults,
): Promise<number> {
  const answer = await callService('catalog', `${addressOf('catalog', catalogUrl, faults)}/products/${productId}`, {
    timeoutMs,
  });
  if (answer.status === 404) {
    throw new AppError(422, 'UNKNOWN_PRODUCT', `product ${productId} does not exist`, { productId });
  }
  const parsed = catalogAnswer.safeParse(answer.body);
  if (answer.status !== 200 || !parsed.success) throw dependencyFailed('catalog', answer.status);
  return parsed.data.product.priceCents;
}

/** Charges an order; the order id is the Idempotency-Key, so however often a checkout is retried it is charged once. */
export async function chargeOrder(
  paymentsUrl: string,
  charge: { orderId: string; amountCents: number; currency: string },
  timeoutMs: number,
  faults?: Faults,
): Promise<Payment> {
  const answer = await callService('payments', `${addressOf('payments', paymentsUrl, faults)}/payments`, {
    method: 'POST',
    headers: { 'idempotency-key': charge.orderId },
    body: charge,
    timeoutMs,
  });
  const parsed = paymentAnswer.safeParse(answer.body);
  const accepted = answer.status === 200 || answer.status === 201;
  if (!accepted || !parsed.success) throw dependencyFailed('payments', answer.status);
  return parsed.data.payment;
}
