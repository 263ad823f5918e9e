/**
 * Exercises 05 (pool-saturation) and 06 (queue-backlog) end to end in lite mode, on one lab
 * brought up from nothing (ports from the base port of its row in test/support/test-labs.ts, schemas, queues and Redis keys prefixed
 * exs_). For each randomised target (a replicated and a single service's pool; each consumer, one
 * stalled and one slow): `lab start` -> `lab check` fails -> another start's answer fails, the
 * right one with the fault on fails the fix -> the reference solution -> `lab check` passes ->
 * `lab reset` leaves every service healthy and every fault gone; and (05) with the traffic stopped
 * the fix never passes. Needs the real MySQL, Redis and RabbitMQ, Debian's prometheus and
 * prometheus-alertmanager, ports 4080-5464 free, and a build (`npx tsc -b`).
 */
import { exerciseLab, FLOWING, item } from './exercise-lab';
import { eventually } from '../../test/support/eventually';
import { TEST_LABS } from '../../test/support/test-labs';

const PREFIX = TEST_LABS['exercises-05-06'].schemaPrefix;
const lab = exerciseLab('exercises-05-06');
const until = (what: string, query: string, ms = 90_000) =>
  eventually(what, ms, async () => ((await lab.holds(query)) ? true : undefined));

describe('exercises 05 and 06 in lite mode', () => {
  beforeAll(() => lab.up(10), 300_000);
  afterAll(() => lab.down(), 90_000);

  // Seeds drawn so that a replicated service and a single one come up (seededRng(11), (5) pick these).
  it.each([
    [11, 'catalog', 2],
    [5, 'auth', 3],
  ])(
    '05 seed %i (%s, %i connections): wrong answers fail, the right ones with the pool small fail the fix',
    async (seed, service, size) => {
      await until('traffic flowing for a whole window', FLOWING);
      const { target } = await lab.start('05', seed);
      expect(target).toEqual({ service, size });
      expect((await lab.check('05')).code).toBe(1);
      await until('the small pool to be scraped', `max(db_client_connection_max{job="${service}"}) == ${size}`, 60_000);

      // Another start's answers (seed 7: orders with 1 connection).
      expect((await lab.cli(['answer', '05', 'service=orders', 'max=1'])).code).toBe(0);
      const other = (await lab.check('05')).result;
      expect(item(other, 'diagnosis/service')?.passed).toBe(false);
      expect(item(other, 'diagnosis/max')?.passed).toBe(false);
      expect((await lab.cli(['answer', '05', 'max=ten'])).code).toBe(2);
      const instance = service === 'catalog' ? 'catalog-2' : service;
      expect((await lab.cli(['answer', '05', `service=${instance}`, `max=${size}`])).code).toBe(0);
      const faultOn = await lab.check('05');
      expect(faultOn.code).toBe(1);
      expect(item(faultOn.result, 'diagnosis/service')?.passed).toBe(true);
      expect(item(faultOn.result, 'diagnosis/max')?.passed).toBe(true);
      expect(item(faultOn.result, 'fix/pool-size')?.passed).toBe(false);

      await lab.solve('05', target);
      await lab.expectPass('05', '120s');
      await lab.expectCleanLab();
    },
    300_000,
  );

  it('05: with the traffic stopped the fix never passes', async () => {
    const { target } = await lab.start('05', 7);
    await lab.solve('05', target);
    await lab.expectTrafficStoppedFails('05', 'fix/pool-size');
    await lab.expectCleanLab();
  }, 300_000);

  // Seeds drawn so that each consumer and each mode come up (seededRng(7), (10) pick these).
  it.each([
    [7, 'inventory', 'inventory.order-created', 'stalled'],
    [10, 'notifications', 'notifications.order-events', 'slow'],
  ])(
    '06 seed %i (%s %s): the other queue fails, the right one with the consumer stuck fails the fix',
    async (seed, service, logical, mode) => {
      const queue = `${PREFIX}${logical}`;
      await until('traffic flowing for a whole window', FLOWING);
      const { target } = await lab.start('06', seed);
      expect(target).toEqual({ service, queue, mode });
      expect((await lab.check('06')).code).toBe(1);
      const lag = `histogram_quantile(0.95, sum by (le) (rate(messaging_process_lag_seconds_bucket{queue="${queue}"}[30s])))`;
      if (mode === 'stalled')
        await until(
          'a window in which the queue finished nothing',
          `sum(rate(messaging_process_lag_seconds_count{queue="${queue}"}[30s])) == 0`,
        );
      else await until('the slow messages to reach the lag', `${lag} > 5`);

      const [otherQueue, otherService] =
        service === 'inventory'
          ? [`${PREFIX}notifications.order-events`, 'notifications']
          : [`${PREFIX}inventory.order-created`, 'inventory'];
      expect((await lab.cli(['answer', '06', `queue=${otherQueue}`, `consumer=${otherService}`])).code).toBe(0);
      const other = (await lab.check('06')).result;
      expect(item(other, 'diagnosis/queue')?.passed).toBe(false);
      expect(item(other, 'diagnosis/consumer')?.passed).toBe(false);
      expect((await lab.cli(['answer', '06', 'queue=the queue'])).code).toBe(2);
      expect((await lab.cli(['answer', '06', `queue=${queue}`, `consumer=${service}`])).code).toBe(0);
      const faultOn = await lab.check('06');
      expect(faultOn.code).toBe(1);
      expect(item(faultOn.result, 'diagnosis/queue')?.passed).toBe(true);
      expect(item(faultOn.result, 'diagnosis/consumer')?.passed).toBe(true);
      expect(item(faultOn.result, 'fix/lag')?.passed).toBe(false);

      await lab.solve('06', target);
      await lab.expectPass('06', '150s');
      await lab.expectCleanLab();
    },
    360_000,
  );
});
