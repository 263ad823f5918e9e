import { randomBytes } from 'node:crypto';
import { LabError } from '../core/errors';
import { request } from '../core/http';

/**
 * ShopNow as a customer sees it, through the gateway: what an exercise needs to place a real
 * checkout whose trace id the lab chose (a W3C traceparent the gateway continues).
 */
export interface Product {
  id: number;
  name: string;
  priceCents: number;
}

export interface Customer {
  email: string;
  token: string;
}

export interface PlacedOrder {
  id: string;
  status: string;
  traceId: string;
}

export interface Shop {
  /** Registers a fresh customer and signs them in. */
  customer(): Promise<Customer>;
  products(page: number): Promise<Product[]>;
  /** POST /api/orders in a new trace; answers the order and that trace id. */
  checkout(customer: Customer, items: Array<{ productId: number; quantity: number }>): Promise<PlacedOrder>;
}

export function gatewayShop(gatewayUrl: string): Shop {
  const call = async <T>(
    path: string,
    init: RequestInit & { json?: unknown } = {},
    accepted: number[] = [],
  ): Promise<T> => {
    const headers = new Headers(init.headers);
    if (init.json !== undefined) headers.set('content-type', 'application/json');
    const res = await request(
      `${gatewayUrl}${path}`,
      { ...init, headers, body: init.json === undefined ? undefined : JSON.stringify(init.json) },
      15_000,
    );
    const body = (await res.json().catch(() => ({}))) as T;
    if (!res.ok && !accepted.includes(res.status))
      throw new LabError(`${init.method ?? 'GET'} ${path} answered ${res.status}: ${JSON.stringify(body)}`);
    return body;
  };
  return {
    async customer() {
      const email = `exercise-${randomBytes(6).toString('hex')}@shopnow.test`;
      const password = randomBytes(18).toString('base64url');
      await call('/api/auth/register', { method: 'POST', json: { email, password, name: 'Exercise customer' } });
      const { token } = await call<{ token: string }>('/api/auth/login', { method: 'POST', json: { email, password } });
      return { email, token };
    },
    async products(page) {
      return (await call<{ products: Product[] }>(`/api/products?page=${page}&pageSize=20`)).products;
    },
    async checkout(customer, items) {
      const traceId = randomBytes(16).toString('hex');
      // A declined payment (402) is an answer, not a failure: the simulated provider declines some.
      const answer = await call<{ order?: { id: string; status: string }; error?: { details?: { orderId?: string } } }>(
        '/api/orders',
        {
          method: 'POST',
          json: { items },
          headers: {
            authorization: `Bearer ${customer.token}`,
            'idempotency-key': randomBytes(12).toString('hex'),
            traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
          },
        },
        [402],
      );
      if (answer.order) return { id: answer.order.id, status: answer.order.status, traceId };
      return { id: answer.error?.details?.orderId ?? '', status: 'declined', traceId };
    },
  };
}
