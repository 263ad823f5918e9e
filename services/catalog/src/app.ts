import {
  mysqlCheck,
  createServiceApp,
  finishApp,
  parse,
  requireRole,
  type FaultWiring,
  type Logger,
  type Registry,
} from '@shopnow/kit';
import { type Pool } from '@shopnow/kit/mysql';
import { type Redis } from '@shopnow/kit/redis';
import type { Express } from 'express';
import { z } from 'zod';
import { createCatalog } from './products';

export interface AppDeps extends FaultWiring {
  log: Logger;
  registry: Registry;
  pool: Pool;
  redis: Redis;
  cacheTtlSeconds: () => number;
  /** Which replica this is; every response names it in x-served-by. */
  instanceId: string;
}

const wholeNumber = (max: number) =>
  z
    .string()
    .regex(/^\d{1,15}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.int().min(1).max(max));

const listQuery = z
  .object({ page: wholeNumber(1_000_000).default(1), pageSize: wholeNumber(100).default(20) })
  .strict();
const searchQuery = z.object({ q: z.string().min(1).max(100) }).strict();
const productParams = z.object({ id: wholeNumber(Number.MAX_SAFE_INTEGER) }).strict();
const productChanges = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(2000).optional(),
    priceCents: z.int().min(1).max(10_000_000).optional(),
  })
  .strict()
  .refine((changes) => Object.keys(changes).length > 0, 'must change at least one field');

export function createApp({ log, registry, pool, redis, cacheTtlSeconds, instanceId, ...wiring }: AppDeps): Express {
  // Redis is left out on purpose: without it the catalog still answers, from MySQL.
  const app = createServiceApp({ log, registry, checks: { mysql: mysqlCheck(pool) }, ...wiring });
  // Replicas run the same code behind the gateway's load balancer; this shows which one answered.
  app.use((_req, res, next) => {
    res.set('x-served-by', instanceId);
    next();
  });
  const catalog = createCatalog({ pool, redis, registry, log, cacheTtlSeconds, faults: wiring.faults });

  app.get('/products', async (req, res) => {
    const { page, pageSize } = parse(listQuery, req.query, 'query');
    res.json(await catalog.list(page, pageSize));
  });

  app.get('/products/search', async (req, res) => {
    const { q } = parse(searchQuery, req.query, 'query');
    res.json({ products: await catalog.search(q) });
  });

  app.get('/products/:id', async (req, res) => {
    const { id } = parse(productParams, req.params, 'params');
    res.json({ product: await catalog.get(id) });
  });

  app.put('/products/:id', async (req, res) => {
    requireRole(req, 'admin');
    const { id } = parse(productParams, req.params, 'params');
    const changes = parse(productChanges, req.body, 'body');
    res.json({ product: await catalog.update(id, changes) });
  });

  return finishApp(app, log);
}
