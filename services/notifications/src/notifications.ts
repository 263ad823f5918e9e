import { ORDER_PAID, orderEvent, prom, type Logger, type Registry } from '@shopnow/kit';
import { PoisonMessageError, type Handler } from '@shopnow/kit/amqp';
import { type Pool } from '@shopnow/kit/mysql';
import * as db from './db';

const CHANNEL = 'email';
const TEMPLATE = 'order-confirmation';

export interface Notification {
  id: number;
  eventId: string;
  orderId: string;
  userId: number;
  channel: string;
  template: string;
  createdAt: string;
}

export const toNotification = (row: db.NotificationRow): Notification => ({
  id: Number(row.id),
  eventId: row.event_id,
  orderId: row.order_id,
  userId: Number(row.user_id),
  channel: row.channel,
  template: row.template,
  createdAt: row.created_at.toISOString(),
});

interface ConsumerDeps {
  pool: Pool;
  registry: Registry;
  log: Logger;
}

/**
 * One order confirmation per order.paid event. A message that is not such an event can never
 * succeed, however often it is retried: it is poison, and goes to the dead-letter queue.
 */
export function orderPaidHandler({ pool, registry, log }: ConsumerDeps): Handler {
  const sent = new prom.Counter({
    name: 'notifications_sent_total',
    help: 'Notifications recorded (sent), by template.',
    labelNames: ['template'],
    registers: [registry],
  });
  sent.inc({ template: TEMPLATE }, 0);
  const duplicates = new prom.Counter({
    name: 'notifications_duplicates_total',
    help: 'Redelivered events whose notification had already been recorded, and were ignored.',
    registers: [registry],
  });

  return async (body) => {
    const parsed = orderEvent.safeParse(body);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
      throw new PoisonMessageError(`not an order event: ${problems.join('; ')}`);
    }
    const { eventId, type, order } = parsed.data;
    if (type !== ORDER_PAID) throw new PoisonMessageError(`expected ${ORDER_PAID}, got ${type}`);
    const recorded = await db.insertNotification(pool, {
      eventId,
      orderId: order.id,
      userId: order.userId,
      channel: CHANNEL,
      template: TEMPLATE,
    });
    if (recorded) sent.inc({ template: TEMPLATE });
    else duplicates.inc();
    log.info(recorded ? 'notification sent' : 'duplicate event ignored', {
      eventId,
      orderId: order.id,
      template: TEMPLATE,
    });
  };
}
