/**
 * Exercise 11 (log-noise) end to end in lite mode, as exercises-lite.test.ts proves 01-03: a lab
 * from nothing (a fresh LAB_HOME, ports from the base port of its row in test/support/test-labs.ts, schemas prefixed exn_),
 * `lab start` -> `lab check` fails -> the reference solution (`lab restart <instance>`) ->
 * `lab check` passes -> `lab reset` leaves every service healthy and every fault gone; and the
 * adversarial cases: the sibling replica, the answer of another start, the access line's message
 * instead of the flood's, the right answers with the flood still on, traffic stopped. Needs the
 * real MySQL, Redis and RabbitMQ, Debian's prometheus and prometheus-alertmanager, ports
 * 2480-3864 free, and a build (`npx tsc -b`).
 */
import { exerciseLab, item } from './exercise-lab';
import { eventually } from '../../test/support/eventually';

const lab = exerciseLab('exercises-11');

interface Target {
  instance: string;
  labels: string[];
  linesPerRequest: number;
}

/** Lines per request of one instance over the last 30 s, from the counter the kit's logger keeps. */
const linesPerRequest = (label: string) =>
  `sum(rate(log_messages_total{instance="${label}"}[30s])) / sum(rate(http_server_request_duration_seconds_count{instance="${label}"}[30s]))`;

describe('exercise 11 in lite mode', () => {
  beforeAll(() => lab.up(), 300_000);
  afterAll(() => lab.down(), 90_000);

  it('finds the flooding replica and its line; the fix holds only after it is restarted', async () => {
    const other = (await lab.start('11', 4)).target as Target;
    const { target } = await lab.start('11', 9);
    const { instance, labels } = target as Target;
    expect(instance).toMatch(/^catalog-\d$/); // a replica: its sibling serves the same routes quietly
    expect(other.instance).not.toBe(instance);
    expect((await lab.check('11')).code).toBe(1);
    expect((await lab.cli(['solution', '11'])).code).toBe(1);

    // The flood shows in the instance's own log counter, and its lines in its log file.
    await eventually('the flood to show in a whole window', 90_000, async () =>
      (await lab.holds(`${linesPerRequest(labels[0])} > 10`)) ? true : undefined,
    );
    const logs = JSON.parse((await lab.cli(['logs', instance, '--tail', '50', '--json'])).stdout) as {
      lines: Array<{ record?: { message?: string } }>;
    };
    expect(logs.lines.map((line) => line.record?.message)).toContain('request detail');

    // The sibling replica, the access line's message: both wrong.
    const sibling = instance === 'catalog-1' ? 'catalog-2' : 'catalog-1';
    await lab.cli(['answer', '11', `instance=${sibling}`, 'message=request completed']);
    const wrong = (await lab.check('11')).result;
    expect(item(wrong, 'diagnosis/instance')?.passed).toBe(false);
    expect(item(wrong, 'diagnosis/message')?.passed).toBe(false);

    // Another start's instance is not this start's.
    await lab.cli(['answer', '11', `instance=${other.labels[0]}`]);
    expect(item((await lab.check('11')).result, 'diagnosis/instance')?.passed).toBe(false);

    // The right answers (the label form), the flood still on: the diagnosis passes, the fix does not.
    await lab.cli(['answer', '11', `instance=${labels[0]}`, 'message="request detail"']);
    const flooding = await lab.check('11');
    expect(flooding.code).toBe(1);
    expect(item(flooding.result, 'diagnosis/instance')?.passed).toBe(true);
    expect(item(flooding.result, 'diagnosis/message')?.passed).toBe(true);
    expect(item(flooding.result, 'fix/log-lines-per-request')?.passed).toBe(false);

    await lab.solve('11', target);
    expect(await lab.check('11', '90s')).toMatchObject({ code: 0, result: { passed: true } });
    await eventually('the replica back to its peers once the flood left the window', 60_000, async () =>
      (await lab.holds(`${linesPerRequest(labels[0])} < 3`)) ? true : undefined,
    );
    expect((await lab.cli(['solution', '11'])).code).toBe(0);

    await lab.expectTrafficStoppedFails('11', 'fix/log-lines-per-request');
    await lab.expectCleanLab();
  }, 480_000);
});
