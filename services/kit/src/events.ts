import { z } from 'zod';

/**
 * The contract of the domain events on RabbitMQ, in one place: orders publishes them through its
 * outbox, inventory and notifications consume them. A message that does not match is poison.
 */
export const ORDER_CREATED = 'order.created';
export const ORDER_PAID = 'order.paid';

const orderLine = z.object({
  productId: z.number().int().positive(),
  quantity: z.number().int().positive(),
  priceCents: z.number().int().nonnegative(),
});

export const orderEvent = z.object({
  eventId: z.uuid(),
  type: z.enum([ORDER_CREATED, ORDER_PAID]),
  occurredAt: z.iso.datetime(),
  order: z.object({
    id: z.uuid(),
    userId: z.number().int().positive(),
    totalCents: z.number().int().nonnegative(),
    items: z.array(orderLine).min(1),
  }),
});

export type OrderEvent = z.infer<typeof orderEvent>;
