/**
 * Exercise 17 (noisy-client) end to end in lite mode: a lab from nothing (a fresh LAB_HOME, ports
 * from the base port of its row in test/support/test-labs.ts, schemas prefixed exq_), `lab start` -> customers refused by the
 * listing's shared budget -> `lab check` fails -> the gateway's log names the client (hashed: the
 * raw key is written nowhere) -> the reference solution (a limit of 0 for that client through the
 * gateway's admin API) -> `lab check` passes -> `lab reset` leaves every service healthy and every
 * fault gone; and the adversarial cases: a visitor's key, the client of another start, the right
 * answer with the flood unchecked, traffic stopped, and the flood cleared instead of held off.
 * Needs the real MySQL, Redis and RabbitMQ, Debian's prometheus and prometheus-alertmanager, ports
 * 2780-4164 free, and a build (`npx tsc -b`).
 */
import { clearFaults } from '../src/core/faults';
import { exerciseLab, item } from './exercise-lab';
import { eventually } from '../../test/support/eventually';

const lab = exerciseLab('exercises-17');

interface Target {
  client: string;
  apiKey: string;
  rate: number;
}

/** The gateway's log lines containing `text`, through `lab logs`. */
async function gatewayLog(text: string): Promise<string> {
  const { code, stdout } = await lab.cli(['logs', 'gateway', '--grep', text, '--tail', '20']);
  expect(code).toBe(0);
  return stdout;
}

describe('exercise 17 in lite mode', () => {
  beforeAll(() => lab.up(), 300_000);
  afterAll(() => lab.down(), 90_000);

  it('names the noisy client from the logs; a limit of its own frees the listing, clearing it does not count', async () => {
    const other = (await lab.start('17', 5)).target as Target;
    const target = (await lab.start('17', 1)).target as Target;
    expect(target.client).not.toBe(other.client);
    expect(target.client).toMatch(/^key:[0-9a-f]{16}$/);

    // The flood spends the listing's budget: ordinary customers are refused, by the shared limit.
    await eventually('customers refused by the listing budget', 90_000, async () =>
      (await lab.holds(
        'sum(rate(lab_traffic_requests_total{journey!="noisy-client",outcome="rate_limited"}[30s])) > 0.1 and on() sum(rate(gateway_rate_limited_total{scope="route"}[30s])) > 1',
      ))
        ? true
        : undefined,
    );
    const started = await lab.check('17');
    expect(started.code).toBe(1);
    expect(item(started.result, 'fix/customers-served')?.passed).toBe(false);

    // The log names the client by its hash; the key itself is written nowhere.
    const named = await eventually('the gateway to log the client over its limit', 30_000, async () => {
      const lines = await gatewayLog('over its rate limit');
      return lines.includes(target.client) ? lines : undefined;
    });
    expect(named).toContain('"key_type":"api_key"');
    expect(await gatewayLog(target.apiKey)).not.toContain(target.apiKey);

    // A visitor's key, then another start's client: both wrong.
    await lab.cli(['answer', '17', 'client=key:0123456789abcdef']);
    expect(item((await lab.check('17')).result, 'diagnosis/client')?.passed).toBe(false);
    await lab.cli(['answer', '17', `client=${other.client}`]);
    expect(item((await lab.check('17')).result, 'diagnosis/client')?.passed).toBe(false);
    expect((await lab.cli(['answer', '17', 'client=pricewatch'])).code).toBe(2);

    // The right client (without its prefix, as the Redis key shows it), nothing done about it.
    await lab.cli(['answer', '17', `client=${target.client.slice('key:'.length).toUpperCase()}`]);
    const unchecked = await lab.check('17');
    expect(unchecked.code).toBe(1);
    expect(item(unchecked.result, 'diagnosis/client')?.passed).toBe(true);
    expect(item(unchecked.result, 'fix/flood-goes-on')?.passed).toBe(true);
    expect(item(unchecked.result, 'fix/customers-served')?.passed).toBe(false);

    await lab.solve('17', target);
    await lab.expectPass('17', '90s');
    expect((await lab.cli(['solution', '17'])).code).toBe(0);

    await lab.expectTrafficStoppedFails('17', 'fix/customers-served');

    // The control plane does not clear it during the exercise; cleared all the same (as the lab
    // can) rather than held off, the customers are fine, but that is not the fix.
    expect((await lab.cli(['fault', 'clear', 'noisy-client'])).code).toBe(1);
    await clearFaults(lab.faults(), { name: 'noisy-client' });
    await eventually('the flood gone from a whole window', 90_000, async () =>
      (await lab.holds('sum(rate(lab_traffic_requests_total{journey="noisy-client"}[30s])) == 0')) ? true : undefined,
    );
    const cleared = await lab.check('17');
    expect(cleared.code).toBe(1);
    expect(item(cleared.result, 'fix/flood-goes-on')?.passed).toBe(false);

    await lab.expectCleanLab();
  }, 600_000);
});
