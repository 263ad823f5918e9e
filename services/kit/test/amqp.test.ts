import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { createAmqp, declareQueue, OCCURRED_AT_HEADER, PoisonMessageError, type Amqp } from '../src/amqp';
import { createLogger } from '../src/logger';
import { createRegistry } from '../src/metrics';
import { AMQP_URL } from '../../../test/support/backends';

const log = createLogger('kit-test', 'error');

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('RabbitMQ through the kit', () => {
  const exchange = `test.events.${randomUUID()}`;
  const queue = `test.kit.${randomUUID()}`;
  const registry = createRegistry('kit-test', '0');
  const handled: unknown[] = [];
  let failOnce = true;
  let client: Amqp;

  beforeAll(async () => {
    client = createAmqp({
      url: AMQP_URL,
      log,
      registry,
      watchQueues: [queue],
      topology: (channel) => declareQueue(channel, { exchange, queue, routingKeys: ['thing.*'] }),
    });
    client.consume(
      queue,
      async (body) => {
        const { kind } = body as { kind: string };
        if (kind === 'poison') throw new PoisonMessageError('not a thing');
        if (kind === 'flaky' && failOnce) {
          failOnce = false;
          throw new Error('database away');
        }
        handled.push(body);
      },
      { prefetch: 5 },
    );
    await until(() => client.isConnected());
  });

  afterAll(async () => {
    await client.close();
    const conn = await amqp.connect(AMQP_URL);
    const channel = await conn.createChannel();
    await channel.deleteQueue(queue);
    await channel.deleteQueue(`${queue}.dlq`);
    await channel.deleteExchange(exchange);
    await conn.close();
  });

  it('publishes with a broker confirm and consumes with an ack', async () => {
    await client.publish(
      exchange,
      'thing.created',
      { kind: 'good', n: 1 },
      { headers: { [OCCURRED_AT_HEADER]: Date.now() } },
    );
    await until(() => handled.length === 1);
    expect(handled[0]).toEqual({ kind: 'good', n: 1 });
    const text = await registry.metrics();
    expect(text).toMatch(
      /messaging_client_sent_messages_total\{exchange="[^"]+",routing_key="thing.created",outcome="confirmed"\} 1/,
    );
    expect(text).toMatch(new RegExp(`messaging_client_consumed_messages_total\\{queue="${queue}",outcome="ack"\\} 1`));
    expect(text).toMatch(new RegExp(`messaging_process_lag_seconds_count\\{queue="${queue}"\\} 1`));
  });

  it('dead-letters a poison message and an unparsable one instead of retrying them', async () => {
    await client.publish(exchange, 'thing.created', { kind: 'poison' });
    const conn = await amqp.connect(AMQP_URL);
    const channel = await conn.createChannel();
    channel.publish(exchange, 'thing.created', Buffer.from('{not json'));
    const dead: string[] = [];
    await until(async () => {
      const message = await channel.get(`${queue}.dlq`, { noAck: true });
      if (message) dead.push(message.content.toString());
      return dead.length === 2;
    });
    await conn.close();
    expect(dead.sort()).toEqual(['{"kind":"poison"}', '{not json'].sort());
    expect(await registry.metrics()).toMatch(
      new RegExp(`messaging_client_consumed_messages_total\\{queue="${queue}",outcome="dead_letter"\\} 2`),
    );
  });

  it('requeues a message whose processing failed for a transient reason, and then applies it', async () => {
    await client.publish(exchange, 'thing.created', { kind: 'flaky' });
    await until(() => handled.some((body) => (body as { kind: string }).kind === 'flaky'));
    expect(await registry.metrics()).toMatch(
      new RegExp(`messaging_client_consumed_messages_total\\{queue="${queue}",outcome="requeue"\\} 1`),
    );
  });

  it('refuses to publish while disconnected, counting the failure', async () => {
    const offline = createAmqp({
      url: 'amqp://guest:guest@127.0.0.1:1',
      log,
      registry: createRegistry('kit-test', '0'),
      topology: async () => undefined,
    });
    await expect(offline.publish(exchange, 'thing.created', {})).rejects.toThrow('not connected');
    await offline.close();
  });
});
