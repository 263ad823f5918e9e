/**
 * Exercise 09 (event-loop-block) end to end in lite mode, as exercises-lite.test.ts proves 01-03:
 * a lab from nothing (a fresh LAB_HOME, ports from the base port of its row in test/support/test-labs.ts, schemas prefixed exi_),
 * `lab start` -> `lab check` fails -> the reference solution (each instance
 * of the service restarted) -> `lab check` passes -> `lab reset` leaves every service healthy and every
 * fault gone; and the adversarial cases: the answers of another start, the right route at the
 * wrong service (the gateway sees the same slowness), the right answers with the block still on,
 * traffic stopped. Needs the real MySQL, Redis and RabbitMQ, Debian's prometheus and
 * prometheus-alertmanager, ports 25080-26464 free, and a build (`npx tsc -b`).
 */
import { activeFaults } from '../src/core/faults';
import { exerciseLab, item } from './exercise-lab';
import { eventually } from '../../test/support/eventually';

const lab = exerciseLab('exercises-09');

describe('exercise 09 in lite mode', () => {
  beforeAll(() => lab.up(), 300_000);
  afterAll(() => lab.down(), 90_000);

  it('finds the blocked service and route; the fix holds only once its instances are redeployed', async () => {
    const other = (await lab.start('09', 12)).target as { service: string; route: string };
    const { target } = await lab.start('09', 7);
    const { service, route } = target as { service: string; route: string };
    expect(service).toBe('catalog'); // two replicas: the solution must revert both
    expect(other.service).not.toBe(service);
    expect((await lab.check('09')).code).toBe(1);

    await lab.cli(['answer', '09', `service=${other.service}`, `route=GET ${other.route}`]);
    const stale = (await lab.check('09')).result;
    expect(item(stale, 'diagnosis/service')?.passed).toBe(false);
    expect(item(stale, 'diagnosis/route')?.passed).toBe(false);

    // The gateway's view of the same route is slow too, but its event loop is not the one blocked.
    await lab.cli(['answer', '09', 'service=gateway', `route=GET /api${route}`]);
    const gateway = (await lab.check('09')).result;
    expect(item(gateway, 'diagnosis/service')?.passed).toBe(false);
    expect(item(gateway, 'diagnosis/route')?.passed).toBe(true);

    await lab.cli(['answer', '09', `service=${service}`, `route=GET ${route}`]);
    await eventually('the blocked route to be slow over a whole window', 90_000, async () =>
      (await lab.holds(
        `histogram_quantile(0.95, sum by (le) (rate(http_server_request_duration_seconds_bucket{job="${service}",route="${route}"}[30s]))) > 0.3`,
      ))
        ? true
        : undefined,
    );
    const blocked = await lab.check('09');
    expect(blocked.code).toBe(1);
    expect(item(blocked.result, 'diagnosis/service')?.passed).toBe(true);
    expect(item(blocked.result, 'diagnosis/route')?.passed).toBe(true);
    expect(item(blocked.result, 'fix/route-p95')?.passed).toBe(false);

    await lab.solve('09', target);
    // The lab's own view: `lab faults` hides an exercise's faults while it runs.
    expect((await activeFaults(lab.faults())).faults).toEqual([]);
    await lab.expectPass('09', '90s');
    expect((await lab.cli(['solution', '09'])).code).toBe(0);

    await lab.expectTrafficStoppedFails('09', 'fix/route-p95');
    await lab.expectCleanLab();
  }, 420_000);
});
