import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Catalog and payments belong to other services. These are small real HTTP servers answering as
 * their contracts say, so orders' HTTP client, timeouts and error mapping run for real.
 */
async function listen(server: http.Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

async function shut(server: http.Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

function reply(res: http.ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** GET /products/:id -> 200 {product} for the known ids, 404 for the others. */
export async function startCatalog(prices: Record<number, number>) {
  const server = http.createServer((req, res) => {
    const id = Number(/^\/products\/(\d+)$/.exec(req.url ?? '')?.[1]);
    if (req.method !== 'GET' || !(id in prices))
      return reply(res, 404, { error: { code: 'NOT_FOUND', message: 'product not found' } });
    reply(res, 200, { product: { id, name: `product ${id}`, priceCents: prices[id] } });
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, close: () => shut(server) };
}

export interface Charge {
  key: string | undefined;
  body: { orderId: string; amountCents: number; currency: string };
}

/** POST /payments with an Idempotency-Key: 201 for a new key, 200 with the same payment for a known one. */
export class PaymentsDouble {
  readonly calls: Charge[] = [];
  decide: (charge: Charge) => 'approved' | 'declined' = () => 'approved';
  delayMs = 0;
  private readonly payments = new Map<string, { id: string; status: string; amountCents: number }>();
  private server?: http.Server;
  private port = 0;

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  callsFor(orderId: string): Charge[] {
    return this.calls.filter((call) => call.body.orderId === orderId);
  }

  /** Listens, on the same port as before after a stop(): payments "comes back". */
  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString()));
      req.on('end', () => {
        const charge: Charge = { key: req.headers['idempotency-key'] as string | undefined, body: JSON.parse(text) };
        this.calls.push(charge);
        const known = charge.key ? this.payments.get(charge.key) : undefined;
        const payment = known ?? {
          id: `pay_${this.payments.size + 1}`,
          status: this.decide(charge),
          amountCents: charge.body.amountCents,
        };
        if (charge.key) this.payments.set(charge.key, payment);
        setTimeout(() => reply(res, known ? 200 : 201, { payment }), this.delayMs);
      });
    });
    this.port = await listen(this.server, this.port);
  }

  async stop(): Promise<void> {
    if (this.server) await shut(this.server);
  }
}
