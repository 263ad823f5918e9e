/**
 * `lab dlq` against the real RabbitMQ (test/support/backends: 127.0.0.1:5672, guest/guest), on
 * queues of its own: two consumer queues declared as the services declare theirs (kit
 * declareQueue, so a dead-letter queue beside each), messages rejected the way a consumer
 * rejects poison; then listed without being taken, purged, and replayed.
 */
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { declareQueue } from '@shopnow/kit/amqp';
import { AMQP_URL } from '../../test/support/backends';
import { dlqListReport } from '../src/cli/commands/dlq';
import {
  deadLetterQueue,
  listDeadLetters,
  purgeDeadLetterQueue,
  replayDeadLetters,
  type Broker,
} from '../src/core/actions/dlq';
import { LabError, UsageError } from '../src/core/errors';
import { format } from '../src/cli/output';

const run = randomUUID().slice(0, 8);
const exchange = `test.dlq.${run}.events`;
const orders = `test.dlq.${run}.orders`;
const mails = `test.dlq.${run}.mails`;
const broker: Broker = { amqpUrl: AMQP_URL, queues: [orders, mails] };

let conn: amqp.ChannelModel;
let channel: amqp.ConfirmChannel;

const depth = async (queue: string) => (await channel.checkQueue(queue)).messageCount;

async function until(what: string, condition: () => Promise<boolean>, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Publishes through the exchange, then rejects every message of the queue as a consumer rejects poison. */
async function deadLetter(queue: string, routingKey: string, messages: Array<{ id: string; body: string }>) {
  for (const { id, body } of messages)
    channel.publish(exchange, routingKey, Buffer.from(body), { messageId: id, headers: { 'x-occurred-at': 1 } });
  await channel.waitForConfirms();
  for (let i = 0; i < messages.length; i += 1) {
    const message = await channel.get(queue, { noAck: false });
    if (!message) throw new Error(`${queue} lost a message`);
    channel.nack(message, false, false);
  }
}

beforeAll(async () => {
  conn = await amqp.connect(AMQP_URL);
  channel = await conn.createConfirmChannel();
  await declareQueue(channel, { exchange, queue: orders, routingKeys: ['order.created'] });
});

afterAll(async () => {
  for (const queue of [orders, `${orders}.dlq`, mails, `${mails}.dlq`]) await channel.deleteQueue(queue);
  await channel.deleteExchange(exchange);
  await conn.close();
});

describe('lab dlq', () => {
  it('names a dead-letter queue by itself or by the queue it serves, and refuses any other', () => {
    expect(deadLetterQueue(broker, `${orders}.dlq`)).toBe(`${orders}.dlq`);
    expect(deadLetterQueue(broker, orders)).toBe(`${orders}.dlq`);
    expect(() => deadLetterQueue(broker, 'inventory.order-created.dlq')).toThrow(UsageError);
    expect(() => deadLetterQueue(broker, 'inventory.order-created.dlq')).toThrow(`${orders}.dlq, ${mails}.dlq`);
  });

  it('lists each message with its id, routing key, reason and a preview, and leaves it in the queue', async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    await deadLetter(orders, 'order.created', [
      { id: ids[0], body: '{"type":"order.created", "order": {' },
      { id: ids[1], body: `{"note":"${'x'.repeat(100)}"}` },
      { id: ids[2], body: 'line one\nline two' },
    ]);
    await until('three dead letters', async () => (await depth(`${orders}.dlq`)) === 3);

    const [listed, undeclared] = await listDeadLetters(broker, 2);
    expect(undeclared).toEqual({ queue: `${mails}.dlq`, declared: false, messages: 0, shown: [] });
    expect(listed).toMatchObject({ queue: `${orders}.dlq`, declared: true, messages: 3 });
    expect(listed.shown).toHaveLength(2); // the limit
    expect(listed.shown[0]).toMatchObject({
      messageId: ids[0],
      routingKey: 'order.created', // the key it was published with, not the queue name it was re-routed by
      reason: 'rejected',
      deaths: 1,
      preview: '{"type":"order.created", "order": {',
    });
    expect(Date.parse(listed.shown[0].deadLetteredAt ?? '')).toBeGreaterThan(Date.now() - 60_000);
    expect(listed.shown[1].preview).toHaveLength(49); // 48 characters and an ellipsis
    // Looked at, not taken: every message is back, in its place.
    await until('the listed messages back in the queue', async () => (await depth(`${orders}.dlq`)) === 3);
    const again = await listDeadLetters(broker, 10);
    expect(again[0].shown.map((m) => m.messageId)).toEqual(ids);
    expect(again[0].shown[2].preview).toBe('line one line two'); // control characters do not reach the terminal

    // The person and --json read the same data.
    const report = dlqListReport(again);
    const text = format(report, { json: false, color: false });
    expect(text).toContain(`${orders}.dlq: 3 message(s)`);
    for (const id of ids) expect(text).toContain(id);
    expect(text).toContain(`${mails}.dlq\n(not declared yet`);
    expect(JSON.parse(format(report, { json: true, color: false }))).toEqual({ queues: again });

    expect(await purgeDeadLetterQueue(broker, orders)).toEqual({ queue: `${orders}.dlq`, purged: 3 });
    expect(await depth(`${orders}.dlq`)).toBe(0);
    expect(format(dlqListReport(await listDeadLetters(broker, 10)), { json: false, color: false })).toContain(
      `${orders}.dlq: empty`,
    );
  });

  it('replays the messages there at the start into the queue they came from, without the death headers', async () => {
    await declareQueue(channel, { exchange, queue: mails, routingKeys: ['order.paid'] });
    const ids = [randomUUID(), randomUUID()];
    await deadLetter(mails, 'order.paid', [
      { id: ids[0], body: '{"ok":1}' },
      { id: ids[1], body: '{"ok":2}' },
    ]);
    await until('two dead letters', async () => (await depth(`${mails}.dlq`)) === 2);

    expect(await replayDeadLetters(broker, `${mails}.dlq`)).toEqual({
      queue: `${mails}.dlq`,
      to: mails,
      replayed: ids,
    });
    expect(await depth(`${mails}.dlq`)).toBe(0);
    expect(await depth(orders)).toBe(0); // the queue it came from, not every subscriber of the exchange
    const back = await channel.get(mails, { noAck: false });
    if (!back) throw new Error('the replayed message is not in its queue');
    expect(back.properties.messageId).toBe(ids[0]);
    expect(back.properties.headers).toEqual({ 'x-occurred-at': 1 });
    expect(back.content.toString()).toBe('{"ok":1}');
    // Rejected again, it is a dead letter again: replaying poison only moves it round.
    channel.nack(back, false, false);
    await until('the rejected replay back in the dead-letter queue', async () => (await depth(`${mails}.dlq`)) === 1);
    expect((await listDeadLetters(broker, 10))[1].shown[0]).toMatchObject({ messageId: ids[0], deaths: 1 });
    await purgeDeadLetterQueue(broker, mails);
    await channel.purgeQueue(mails);
  });

  it('says which broker does not answer', async () => {
    const away: Broker = { amqpUrl: 'amqp://guest:guest@127.0.0.1:1', queues: [orders] };
    await expect(listDeadLetters(away, 1)).rejects.toThrow(LabError);
    await expect(purgeDeadLetterQueue(away, orders)).rejects.toThrow('RabbitMQ does not answer at 127.0.0.1:1');
  });
});
