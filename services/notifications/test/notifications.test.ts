import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Notification } from '../src/notifications';
import { bodyOf, connectBroker, metricValue, orderEventOf, startNotifications, until, type ErrorBody } from './support';

const SENT = 'notifications_sent_total{template="order-confirmation"}';
const DUPLICATES = 'notifications_duplicates_total';

describe('notifications subscribed to order.paid (MariaDB, RabbitMQ)', () => {
  let service: Awaited<ReturnType<typeof startNotifications>>;
  let broker: Awaited<ReturnType<typeof connectBroker>>;
  const notificationsOf = async (orderId: string) =>
    (await bodyOf<{ notifications: Notification[] }>(await fetch(`${service.base}/notifications?orderId=${orderId}`)))
      .notifications;
  const metric = async (series: string) => metricValue(await service.metrics(), series);

  beforeAll(async () => {
    service = await startNotifications();
    broker = await connectBroker();
  });
  afterAll(async () => {
    await service.stop();
    await broker.deleteTopology(service);
    await broker.close();
  });

  it('is ready once MySQL and RabbitMQ answer', async () => {
    const res = await fetch(`${service.base}/health/ready`);
    expect(res.status).toBe(200);
    expect((await bodyOf<{ checks: unknown }>(res)).checks).toEqual({ mysql: { ok: true }, rabbitmq: { ok: true } });
  });

  it('records one order confirmation per order.paid', async () => {
    const event = orderEventOf('order.paid');
    await broker.publish(service.exchange, 'order.paid', event);
    await until(async () => (await notificationsOf(event.order.id)).length > 0);
    expect(await notificationsOf(event.order.id)).toEqual([
      {
        id: expect.any(Number),
        eventId: event.eventId,
        orderId: event.order.id,
        userId: 42,
        channel: 'email',
        template: 'order-confirmation',
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    ]);
    expect(await metric(SENT)).toBeGreaterThanOrEqual(1);
  });

  it('ignores a redelivered event, counting it as a duplicate', async () => {
    const event = orderEventOf('order.paid');
    await broker.publish(service.exchange, 'order.paid', event);
    await broker.publish(service.exchange, 'order.paid', event);
    await until(async () => (await metric(DUPLICATES)) === 1);
    expect(await notificationsOf(event.order.id)).toHaveLength(1);
  });

  it('never receives order.created: its queue is bound to order.paid only', async () => {
    const orderId = randomUUID();
    await broker.publish(service.exchange, 'order.created', orderEventOf('order.created', orderId));
    // Published after, on the same queue if it were bound: once this is handled, the first would have been too.
    const paid = orderEventOf('order.paid');
    await broker.publish(service.exchange, 'order.paid', paid);
    await until(async () => (await notificationsOf(paid.order.id)).length === 1);
    expect(await notificationsOf(orderId)).toEqual([]);
    const text = await service.metrics();
    expect(
      metricValue(text, `messaging_client_consumed_messages_total{queue="${service.queue}",outcome="dead_letter"}`),
    ).toBeNaN();
    expect((await broker.channel.checkQueue(`${service.queue}.dlq`)).messageCount).toBe(0);
  });

  it('sends poison messages to the dead-letter queue once, without retrying them', async () => {
    const wrongType = orderEventOf('order.created');
    const wrongShape = { ...orderEventOf('order.paid'), eventId: 'not-a-uuid' };
    await broker.publish(service.exchange, 'order.paid', wrongType);
    await broker.publish(service.exchange, 'order.paid', wrongShape);
    await broker.publish(service.exchange, 'order.paid', 'definitely { not json');
    const dead: string[] = [];
    await until(async () => {
      const message = await broker.channel.get(`${service.queue}.dlq`, { noAck: true });
      if (message) dead.push(message.content.toString());
      return dead.length === 3;
    });
    expect(dead).toContain('definitely { not json');
    expect(await notificationsOf(wrongType.order.id)).toEqual([]);
    const text = await service.metrics();
    const consumed = (outcome: string) =>
      metricValue(text, `messaging_client_consumed_messages_total{queue="${service.queue}",outcome="${outcome}"}`);
    expect(consumed('dead_letter')).toBe(3);
    expect(consumed('requeue')).toBeNaN();
    expect((await broker.channel.checkQueue(service.queue)).messageCount).toBe(0);
  });

  it.each([
    '',
    '?orderId=42',
    '?orderId=not-a-uuid',
    `?orderId=${randomUUID()}&extra=1`,
    `?orderId=${randomUUID()}&orderId=${randomUUID()}`,
  ])('rejects GET /notifications%s with a 400', async (query) => {
    const res = await fetch(`${service.base}/notifications${query}`);
    expect(res.status).toBe(400);
    expect((await bodyOf<ErrorBody>(res)).error.code).toBe('VALIDATION_FAILED');
  });

  it('answers an order without notifications with an empty list', async () => {
    const res = await fetch(`${service.base}/notifications?orderId=${randomUUID()}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ notifications: [] });
  });

  it('exports its queue depths and metrics that promtool accepts', async () => {
    const text = await service.metrics();
    expect(metricValue(text, `messaging_queue_messages{queue="${service.queue}"}`)).toBe(0);
    expect(metricValue(text, `messaging_queue_messages{queue="${service.queue}.dlq"}`)).toBe(0);
    expect(() => execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })).not.toThrow();
  });
});
