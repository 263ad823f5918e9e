import {
  mysqlCheck,
  createServiceApp,
  finishApp,
  notFound,
  parse,
  type FaultWiring,
  type Logger,
  type Registry,
} from '@shopnow/kit';
import { type Pool } from '@shopnow/kit/mysql';
import type { Express } from 'express';
import { z } from 'zod';
import { createPayments } from './payments';
import { createProvider, type ProviderSettings } from './provider';

export interface Deps extends FaultWiring {
  log: Logger;
  registry: Registry;
  pool: Pool;
  provider: ProviderSettings;
}

const idempotencyKey = z
  .string()
  .regex(/^[A-Za-z0-9_-]{8,128}$/, 'must be 8 to 128 characters of A-Z, a-z, 0-9, _ and -');

const chargeBody = z.strictObject({
  orderId: z.uuid().toLowerCase(),
  amountCents: z.number().int().min(1).max(10_000_000),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be a 3-letter uppercase ISO 4217 code')
    .default('EUR'),
});

const paymentParams = z.strictObject({ id: z.uuid().toLowerCase() });

export function createApp({ log, registry, pool, provider, ...wiring }: Deps): Express {
  const payments = createPayments({ pool, provider: createProvider(provider, registry, wiring.faults), registry, log });
  const app = createServiceApp({ log, registry, checks: { mysql: mysqlCheck(pool) }, ...wiring });

  app.post('/payments', async (req, res) => {
    const key = parse(idempotencyKey, req.get('idempotency-key'), 'header Idempotency-Key');
    const body = parse(chargeBody, req.body);
    const { payment, replayed } = await payments.charge({ idempotencyKey: key, ...body });
    if (replayed) res.set('Idempotent-Replayed', 'true');
    res.status(replayed ? 200 : 201).json({ payment });
  });

  app.get('/payments/:id', async (req, res) => {
    const { id } = parse(paymentParams, req.params, 'params');
    const payment = await payments.get(id);
    if (!payment) throw notFound('payment');
    res.json({ payment });
  });

  return finishApp(app, log);
}
