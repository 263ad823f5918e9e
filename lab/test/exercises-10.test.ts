/**
 * Exercise 10 (bad-release) end to end in lite mode, as exercises-lite.test.ts proves 01-03: a
 * lab from nothing (a fresh LAB_HOME, ports from the base port of its row in test/support/test-labs.ts, schemas prefixed exj_),
 * `lab start` -> `lab check` fails -> the reference solution (`lab rollback <instance>`) ->
 * `lab check` passes -> `lab reset` leaves every service healthy and every fault gone; and the
 * adversarial cases: the other replica (another start's answer), a wrong version, a restart
 * (the instance comes back as the same bad release), traffic stopped. Needs the real MySQL,
 * Redis and RabbitMQ, Debian's prometheus and prometheus-alertmanager, ports 30080-31464 free,
 * and a build (`npx tsc -b`).
 */
import { activeFaults } from '../src/core/faults';
import { exerciseLab, item } from './exercise-lab';
import { eventually } from '../../test/support/eventually';

const lab = exerciseLab('exercises-10');

/** The release an instance reports in its own shopnow_build_info. */
async function versionOf(instance: string): Promise<string | undefined> {
  const status = JSON.parse((await lab.cli(['status', '--json'])).stdout) as {
    components: Array<{ name: string; url: string }>;
  };
  const url = status.components.find((c) => c.name === instance)?.url;
  const text = await (await fetch(`${url}/metrics`)).text();
  return /shopnow_build_info\{[^}]*version="([^"]+)"/.exec(text)?.[1];
}

describe('exercise 10 in lite mode', () => {
  beforeAll(() => lab.up(), 300_000);
  afterAll(() => lab.down(), 90_000);

  it('names the canary and its version; a restart keeps the bad release, a rollback ends it', async () => {
    const other = (await lab.start('10', 7)).target as { instance: string };
    const { target } = await lab.start('10', 1);
    const { instance, labels, version } = target as { instance: string; labels: string[]; version: string };
    expect(instance).not.toBe(other.instance);
    expect(await versionOf(instance)).toBe(version);
    expect(await versionOf(other.instance)).toMatch(/^1\./); // the previous start's canary was rolled back
    expect((await lab.check('10')).code).toBe(1);

    await lab.cli(['answer', '10', `instance=${other.instance}`, 'version=1.0.0']);
    const wrong = (await lab.check('10')).result;
    expect(item(wrong, 'diagnosis/instance')?.passed).toBe(false);
    expect(item(wrong, 'diagnosis/version')?.passed).toBe(false);

    await lab.cli(['answer', '10', `instance=${labels[0]}`, `version=v${version}`]);
    await eventually('the canary`s 5xx to reach Prometheus', 60_000, async () =>
      (await lab.holds(
        `sum(rate(http_server_request_duration_seconds_count{job="catalog",instance="${labels[0]}",status_class="5xx"}[30s])) > 0`,
      ))
        ? true
        : undefined,
    );
    // A restart starts the same release again, defect included.
    expect((await lab.cli(['restart', instance])).code).toBe(0);
    expect(await versionOf(instance)).toBe(version);
    const restarted = await lab.check('10');
    expect(restarted.code).toBe(1);
    expect(item(restarted.result, 'diagnosis/instance')?.passed).toBe(true);
    expect(item(restarted.result, 'diagnosis/version')?.passed).toBe(true);
    expect(item(restarted.result, 'fix/catalog-errors')?.passed).toBe(false);

    expect((await lab.cli(['rollback', 'catalog-9'])).code).toBe(2);
    await lab.solve('10', target);
    expect(await versionOf(instance)).toMatch(/^1\./);
    // The lab's own view: `lab faults` hides an exercise's faults while it runs.
    expect((await activeFaults(lab.faults())).faults).toEqual([]);
    await lab.expectPass('10', '90s');
    expect((await lab.cli(['solution', '10'])).code).toBe(0);

    await lab.expectTrafficStoppedFails('10', 'fix/catalog-errors');
    await lab.expectCleanLab();
  }, 420_000);
});
