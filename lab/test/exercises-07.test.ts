/**
 * Exercise 07 (poison-message) end to end in lite mode: a lab from nothing (a fresh LAB_HOME,
 * ports from the base port of its row in test/support/test-labs.ts, schemas and broker names prefixed exm_), `lab start` -> `lab
 * check` fails -> what the learner reads (`lab dlq`, `lab logs`) shows the poison -> the reference
 * solution (answers, `lab dlq purge`) -> `lab check` passes -> `lab reset` leaves every service
 * healthy, no fault and the dead-letter queues empty; and the adversarial cases: a wrong message
 * id, one consumer of two, another start's message id, the right answers with the poison still
 * in its queues, a replay (the poison comes back), traffic stopped. Needs the real MySQL, Redis
 * and RabbitMQ, Debian's prometheus and prometheus-alertmanager, ports 2280-3664 free, and a
 * build (`npx tsc -b`).
 */
import { randomUUID } from 'node:crypto';
import type { DeadLetterQueue } from '../src/core/actions/dlq';
import type { LogLine } from '../src/core/actions/logs';
import { injectFault } from '../src/core/faults';
import { exerciseLab, item } from './exercise-lab';
import { eventually } from '../../test/support/eventually';

const lab = exerciseLab('exercises-07');

interface Target {
  consumers: string[];
  queues: string[];
  messageIds: string[];
}

/** `lab dlq --json`: each dead-letter queue of this lab, by name. */
async function deadLetters(): Promise<Map<string, DeadLetterQueue>> {
  const { code, stdout, stderr } = await lab.cli(['dlq', '--json']);
  if (code !== 0) throw new Error(`lab dlq exited ${code}: ${stderr}`);
  return new Map((JSON.parse(stdout) as { queues: DeadLetterQueue[] }).queues.map((q) => [q.queue, q]));
}

const idsIn = (queue: DeadLetterQueue | undefined) => (queue?.shown.map((m) => m.messageId) ?? []).sort();

async function logLines(service: string, grep: string): Promise<LogLine[]> {
  const { stdout } = await lab.cli(['logs', service, '--grep', grep, '--json']);
  return (JSON.parse(stdout) as { lines: LogLine[] }).lines;
}

describe('exercise 07 in lite mode', () => {
  beforeAll(() => lab.up(), 300_000);
  afterAll(() => lab.down(), 90_000);

  it('names the consumers and a poison id; the fix holds only once the dead letters are gone', async () => {
    const other = (await lab.start('07', 7)).target as Target;
    // Dead-lettered before the next start's reset purges it, not after.
    await eventually("the other start's poison in inventory's dead-letter queue", 60_000, async () =>
      idsIn((await deadLetters()).get('exm_inventory.order-created.dlq')).join() === other.messageIds.join()
        ? true
        : undefined,
    );
    const { target } = await lab.start('07', 5);
    const { consumers, queues, messageIds } = target as Target;
    // Seed 5 poisons both consumers with four messages; seed 7 one consumer with one other message.
    expect(consumers).toEqual(['inventory', 'notifications']);
    expect(queues).toEqual(['exm_inventory.order-created', 'exm_notifications.order-events']);
    expect(messageIds).toHaveLength(4);
    expect(other.consumers).toEqual(['inventory']);
    expect(messageIds).not.toContain(other.messageIds[0]);
    expect((await lab.check('07')).code).toBe(1);
    expect((await lab.cli(['solution', '07'])).code).toBe(1);

    // What the learner reads: the poison in each consumer's dead-letter queue and in its logs,
    // and nothing else there (the normal events are processed).
    const dlqs = await eventually('the poison in both dead-letter queues', 60_000, async () => {
      const found = await deadLetters();
      return queues.every((q) => idsIn(found.get(`${q}.dlq`)).join() === [...messageIds].sort().join())
        ? found
        : undefined;
    });
    expect(dlqs.get('exm_inventory.order-created.dlq')?.shown[0]).toMatchObject({
      routingKey: 'order.created',
      reason: 'rejected',
      deaths: 1,
    });
    expect(dlqs.get('exm_notifications.order-events.dlq')?.shown[0]?.routingKey).toBe('order.paid');
    for (const service of consumers) {
      const rejected = (await logLines(service, 'dead_letter')).map((l) => l.record?.messageId);
      expect(rejected).toEqual(expect.arrayContaining(messageIds));
    }

    // A made-up id; then one consumer of two, with another start's id.
    await lab.cli(['answer', '07', 'consumer=inventory,notifications', `message-id=${randomUUID()}`]);
    let result = (await lab.check('07')).result;
    expect(item(result, 'diagnosis/consumer')?.passed).toBe(true);
    expect(item(result, 'diagnosis/message-id')?.passed).toBe(false);
    await lab.cli(['answer', '07', 'consumer=inventory', `message-id=${other.messageIds[0]}`]);
    result = (await lab.check('07')).result;
    expect(item(result, 'diagnosis/consumer')?.passed).toBe(false);
    expect(item(result, 'diagnosis/message-id')?.passed).toBe(false);

    // The right answers (any of the ids, the consumers in any order), the poison still there.
    await lab.cli(['answer', '07', 'consumer=notifications, inventory', `message-id=${messageIds[2]}`]);
    const poisoned = await lab.check('07');
    expect(poisoned.code).toBe(1);
    expect(item(poisoned.result, 'diagnosis/consumer')?.passed).toBe(true);
    expect(item(poisoned.result, 'diagnosis/message-id')?.passed).toBe(true);
    expect(item(poisoned.result, 'fix/dead-letters')?.passed).toBe(false);
    // The consumers kept processing the normal events all along: the poison blocked nothing.
    expect(item(poisoned.result, 'fix/consumers-processing')?.passed).toBe(true);

    // A replay sends poison round once more: it is rejected again, straight back.
    const replay = await lab.cli(['dlq', 'replay', queues[1], '--json']);
    expect(replay.code).toBe(0);
    expect((JSON.parse(replay.stdout) as { replayed: string[] }).replayed.sort()).toEqual([...messageIds].sort());
    await eventually('the replayed poison dead-lettered again', 60_000, async () =>
      idsIn((await deadLetters()).get(`${queues[1]}.dlq`)).length === messageIds.length ? true : undefined,
    );
    expect((await lab.check('07')).code).toBe(1);

    await lab.solve('07', target);
    expect([...(await deadLetters()).values()].map((q) => q.messages)).toEqual([0, 0]);
    expect(await lab.check('07', '90s')).toMatchObject({ code: 0, result: { passed: true } });
    expect((await lab.cli(['solution', '07'])).code).toBe(0);

    await lab.expectTrafficStoppedFails('07', 'fix/dead-letters');

    // Poison left behind (for one consumer only) is gone after a reset. The CLI injects none while
    // the exercise runs; the lab's own control plane does.
    expect((await lab.cli(['fault', 'inject', 'poison-message', '--service', 'notifications'])).code).toBe(1);
    await injectFault(lab.faults(), { name: 'poison-message', service: 'notifications' });
    await eventually('the new poison in notifications only', 60_000, async () => {
      const found = await deadLetters();
      return found.get(`${queues[1]}.dlq`)?.messages === 1 && found.get(`${queues[0]}.dlq`)?.messages === 0
        ? true
        : undefined;
    });
    await lab.expectCleanLab();
    expect([...(await deadLetters()).values()].map((q) => q.messages)).toEqual([0, 0]);
  }, 600_000);
});
