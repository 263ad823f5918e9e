import {
  amqpCheck,
  mysqlCheck,
  createServiceApp,
  finishApp,
  notFound,
  parse,
  type FaultWiring,
  type Logger,
  type Registry,
} from '@shopnow/kit';
import { type Amqp } from '@shopnow/kit/amqp';
import { type Pool } from '@shopnow/kit/mysql';
import type { Express } from 'express';
import { z } from 'zod';
import { findReservation, findStock } from './db';

export interface AppDeps extends FaultWiring {
  log: Logger;
  registry: Registry;
  pool: Pool;
  amqp: Amqp;
}

const stockParams = z
  .object({
    productId: z
      .string()
      .regex(/^\d{1,15}$/, 'must be a whole number')
      .transform(Number)
      .pipe(z.int().min(1)),
  })
  .strict();
const reservationParams = z.object({ orderId: z.uuid() }).strict();

export function createApp({ log, registry, pool, amqp, ...wiring }: AppDeps): Express {
  const app = createServiceApp({
    log,
    registry,
    checks: {
      mysql: mysqlCheck(pool),
      rabbitmq: amqpCheck(amqp),
    },
    ...wiring,
  });

  app.get('/stock/:productId', async (req, res) => {
    const { productId } = parse(stockParams, req.params, 'params');
    const available = await findStock(pool, productId);
    if (available === undefined) throw notFound(`stock of product ${productId}`);
    res.json({ productId, available });
  });

  app.get('/reservations/:orderId', async (req, res) => {
    const { orderId } = parse(reservationParams, req.params, 'params');
    const reservation = await findReservation(pool, orderId);
    if (!reservation) throw notFound(`reservation for order ${orderId}`);
    res.json({ reservation: { orderId, ...reservation } });
  });

  return finishApp(app, log);
}
