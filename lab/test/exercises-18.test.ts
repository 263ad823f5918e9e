/**
 * Exercise 18 (retry-storm) end to end in lite mode: a lab from nothing (a fresh LAB_HOME, ports
 * from the base port of its row in test/support/test-labs.ts, schemas prefixed exr_), `lab start` -> catalog takes well over one try
 * per product request -> `lab check` fails -> the reference solution (`lab restart gateway`, then
 * the broken replica) -> `lab check` passes -> `lab reset` leaves every service healthy and every
 * fault gone; and the adversarial cases: another start's replica and outcome, a wrong upstream and
 * amplification, the right answers with the faults on, the replica restarted but the gateway still
 * retrying without its budget, traffic stopped. Seed 8 breaks catalog-1 with 1.5 s answers (its
 * tries time out), seed 1 makes catalog-2 answer 503. Needs the real MySQL, Redis and RabbitMQ,
 * Debian's prometheus and prometheus-alertmanager, ports 2980-4364 free, and a build (`npx tsc -b`).
 */
import { exerciseLab, item } from './exercise-lab';
import { eventually } from '../../test/support/eventually';

const lab = exerciseLab('exercises-18');

interface Target {
  instance: string;
  labels: string[];
  outcome: string;
}

/** Tries the gateway sends catalog per product request, over the last 30 s. */
const AMPLIFICATION = `sum(rate(gateway_upstream_requests_total{upstream="catalog"}[30s]))
  / sum(rate(http_server_request_duration_seconds_count{job="gateway",route=~"/api/products.*"}[30s]))`;

const diagnosis = ['upstream', 'instance', 'outcome', 'amplification'].map((key) => `diagnosis/${key}`);

describe('exercise 18 in lite mode', () => {
  beforeAll(() => lab.up(), 300_000);
  afterAll(() => lab.down(), 90_000);

  it('measures the amplification and names the replica; both restarts are needed', async () => {
    const other = (await lab.start('18', 1)).target as Target;
    const target = (await lab.start('18', 8)).target as Target;
    expect([target.instance, target.outcome]).toEqual(['catalog-1', 'timeout']);
    expect([other.instance, other.outcome]).toEqual(['catalog-2', 'error']);

    await eventually('the retries to show in a whole window', 90_000, async () =>
      (await lab.holds(`${AMPLIFICATION} > 1.3`)) ? true : undefined,
    );
    const started = await lab.check('18');
    expect(started.code).toBe(1);
    expect(item(started.result, 'fix/retry-budget')?.passed).toBe(false);
    expect(item(started.result, 'fix/amplification')?.passed).toBe(false);

    // Another start's replica and outcome, and numbers that are not what the gateway does.
    await lab.cli([
      'answer',
      '18',
      'upstream=orders',
      `instance=${other.instance}`,
      `outcome=${other.outcome}`,
      'amplification=1.0',
    ]);
    const wrong = (await lab.check('18')).result;
    for (const name of diagnosis) expect(item(wrong, name)?.passed).toBe(false);
    expect((await lab.cli(['answer', '18', 'outcome=slow'])).code).toBe(2);

    // The right answers (the replica by its address, the factor as a learner writes it), faults on.
    await lab.cli(['answer', '18', 'upstream=catalog', `instance=${target.labels[0]}`, 'outcome=timeout']);
    await lab.cli(['answer', '18', 'amplification=1.52x']);
    const faulty = await lab.check('18');
    expect(faulty.code).toBe(1);
    for (const name of diagnosis) expect(item(faulty.result, name)?.passed).toBe(true);
    expect(item(faulty.result, 'fix/amplification')?.passed).toBe(false);

    // The replica restarted, the gateway still on the storm's policy: the tries settle, the
    // policy does not.
    expect((await lab.cli(['restart', target.instance])).code).toBe(0);
    await eventually('one try per product request over a whole window', 90_000, async () =>
      (await lab.holds(`${AMPLIFICATION} < 1.05`)) ? true : undefined,
    );
    const halfway = await lab.check('18');
    expect(halfway.code).toBe(1);
    expect(item(halfway.result, 'fix/amplification')?.passed).toBe(true);
    expect(item(halfway.result, 'fix/retry-budget')?.passed).toBe(false);

    await lab.solve('18', target);
    await lab.expectPass('18', '90s');
    expect((await lab.cli(['solution', '18'])).code).toBe(0);

    await lab.expectTrafficStoppedFails('18', 'fix/amplification');
    await lab.expectCleanLab();
  }, 600_000);
});
