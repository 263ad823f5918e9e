import {
  amqpCheck,
  mysqlCheck,
  createServiceApp,
  finishApp,
  parse,
  type FaultWiring,
  type Logger,
  type Registry,
} from '@shopnow/kit';
import { type Amqp } from '@shopnow/kit/amqp';
import { type Pool } from '@shopnow/kit/mysql';
import type { Express } from 'express';
import { z } from 'zod';
import { listNotifications } from './db';
import { toNotification } from './notifications';

export interface AppDeps extends FaultWiring {
  log: Logger;
  registry: Registry;
  pool: Pool;
  amqp: Amqp;
}

const listQuery = z.object({ orderId: z.uuid() }).strict();

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

  app.get('/notifications', async (req, res) => {
    const { orderId } = parse(listQuery, req.query, 'query');
    res.json({ notifications: (await listNotifications(pool, orderId)).map(toNotification) });
  });

  return finishApp(app, log);
}
