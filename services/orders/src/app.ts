import {
  mysqlCheck,
  createServiceApp,
  finishApp,
  notFound,
  parse,
  requireCaller,
  type FaultWiring,
} from '@shopnow/kit';
import type { Express } from 'express';
import { z } from 'zod';
import { createOrders, type OrdersDeps } from './orders';

export type AppDeps = OrdersDeps & FaultWiring;

const keyHeader = z.object({
  'idempotency-key': z.string().regex(/^[A-Za-z0-9_-]{8,128}$/, 'must be 8 to 128 characters from A-Z a-z 0-9 _ -'),
});

const line = z
  .object({
    productId: z.number().int().positive().max(2_147_483_647),
    quantity: z.number().int().min(1).max(100),
  })
  .strict();

const checkoutBody = z
  .object({
    items: z
      .array(line)
      .min(1)
      .max(20)
      .refine(
        (items) => new Set(items.map((item) => item.productId)).size === items.length,
        'must not list a product twice',
      ),
  })
  .strict();

const pageQuery = z
  .object({
    page: z.coerce.number().int().min(1).max(10_000).default(1),
    pageSize: z.coerce.number().int().min(1).max(100).default(20),
  })
  .strict();

export function createApp(deps: AppDeps): Express {
  const { log, registry, pool, faults, labToken, release } = deps;
  // Ready means MySQL answers. Catalog, payments and RabbitMQ are left out on purpose: the outbox
  // keeps taking orders while RabbitMQ is away, and one slow neighbour must not unplug us.
  const app = createServiceApp({
    log,
    registry,
    checks: { mysql: mysqlCheck(pool) },
    faults,
    labToken,
    release,
  });
  const orders = createOrders(deps);

  app.post('/orders', async (req, res) => {
    const caller = requireCaller(req);
    const headers = parse(keyHeader, { 'idempotency-key': req.get('idempotency-key') }, 'headers');
    const { items } = parse(checkoutBody, req.body);
    const { order, replayed } = await orders.checkout(caller, headers['idempotency-key'], items);
    if (replayed) res.set('Idempotent-Replayed', 'true');
    res.status(replayed ? 200 : 201).json({ order });
  });

  app.get('/orders', async (req, res) => {
    const caller = requireCaller(req);
    const { page, pageSize } = parse(pageQuery, req.query, 'query');
    res.json({ orders: await orders.listOrders(caller, page, pageSize), page, pageSize });
  });

  app.get('/orders/:id', async (req, res) => {
    const caller = requireCaller(req);
    // An id that is not a UUID cannot name an order: the same 404 as an unknown one, and no query.
    const id = z.uuid().safeParse(req.params.id);
    if (!id.success) throw notFound('order');
    res.json({ order: await orders.getOrder(caller, id.data) });
  });

  return finishApp(app, log);
}
