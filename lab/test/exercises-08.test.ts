/**
 * Exercise 08 (memory-leak) end to end in lite mode, as exercises-lite.test.ts proves 01-03: a
 * lab from nothing (a fresh LAB_HOME, ports from the base port of its row in test/support/test-labs.ts, schemas prefixed exh_),
 * `lab start` -> `lab check` fails -> the reference solution (`lab restart <instance>`) ->
 * `lab check` passes -> `lab reset` leaves every service healthy and every fault gone; and the
 * adversarial cases: another instance, the answer of another start, the right answer with the
 * leak still on, traffic stopped. Needs the real MySQL, Redis and RabbitMQ, Debian's prometheus
 * and prometheus-alertmanager, ports 23080-24464 free, and a build (`npx tsc -b`).
 */
import { exerciseLab, item } from './exercise-lab';
import { eventually } from '../../test/support/eventually';

const lab = exerciseLab('exercises-08');

describe('exercise 08 in lite mode', () => {
  beforeAll(() => lab.up(), 300_000);
  afterAll(() => lab.down(), 90_000);

  it('finds the leaking instance by its labels; the fix holds only after it is restarted', async () => {
    const other = (await lab.start('08', 8)).target as { job: string; instance: string };
    const { target } = await lab.start('08', 1);
    const { job, instance, labels } = target as { job: string; instance: string; labels: string[] };
    expect(instance).not.toBe(other.instance);
    expect((await lab.check('08')).code).toBe(1);
    expect((await lab.cli(['solution', '08'])).code).toBe(1);

    // Another start's instance is not this start's.
    await lab.cli(['answer', '08', `job=${other.job}`, `instance=${other.instance}`]);
    expect(item((await lab.check('08')).result, 'diagnosis/instance')?.passed).toBe(false);

    // The right labels, the leak still on: the diagnosis passes, the fix does not.
    await lab.cli(['answer', '08', `job=${job}`, `instance=${labels[0]}`]);
    await eventually('the leak to show in a whole window', 90_000, async () =>
      (await lab.holds(`deriv(process_resident_memory_bytes{instance="${labels[0]}"}[30s]) > 1e6`)) ? true : undefined,
    );
    const leaking = await lab.check('08');
    expect(leaking.code).toBe(1);
    expect(item(leaking.result, 'diagnosis/job')?.passed).toBe(true);
    expect(item(leaking.result, 'diagnosis/instance')?.passed).toBe(true);
    expect(item(leaking.result, 'fix/memory-growth')?.passed).toBe(false);

    await lab.solve('08', target);
    await lab.expectPass('08', '90s');
    expect((await lab.cli(['solution', '08'])).code).toBe(0);

    await lab.expectTrafficStoppedFails('08', 'fix/memory-growth');
    await lab.expectCleanLab();
  }, 420_000);
});
