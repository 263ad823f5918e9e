/**
 * Exercise 04 (cache-stampede) end to end in lite mode, as exercises-lite.test.ts proves 01-03: a
 * lab from nothing (ports from the base port of its row in test/support/test-labs.ts, schemas, queues and Redis keys prefixed exa_).
 * For each of the three ways the cache breaks: `lab start` -> `lab check` fails -> another mode
 * fails, the right one with the cache broken fails the fix -> the reference solution -> `lab check`
 * passes -> `lab reset` leaves every service healthy and every fault gone; and with the traffic
 * stopped the fix never passes. Needs the real MySQL, Redis and RabbitMQ, Debian's prometheus and
 * prometheus-alertmanager, ports 61080-62464 free, and a build (`npx tsc -b`).
 */
import { exerciseLab, FLOWING, item } from './exercise-lab';
import { eventually } from '../../test/support/eventually';
import { TEST_LABS } from '../../test/support/test-labs';

const PREFIX = TEST_LABS['exercises-04'].schemaPrefix;
const lab = exerciseLab('exercises-04');
const until = (what: string, query: string, ms = 90_000) =>
  eventually(what, ms, async () => ((await lab.holds(query)) ? true : undefined));

/** This lab's cached products matching a pattern, through `lab redis` as a learner would. */
async function cachedKeys(pattern: string): Promise<string[]> {
  const { code, stdout } = await lab.cli([
    'redis',
    'SCAN',
    '0',
    'MATCH',
    `${PREFIX}${pattern}`,
    'COUNT',
    '10000',
    '--json',
  ]);
  expect(code).toBe(0);
  return (JSON.parse(stdout) as { reply: [string, string[]] }).reply[1];
}

const RATIO =
  '(sum(rate(cache_requests_total{job="catalog",cache="products",result="hit"}[30s])) or vector(0)) / sum(rate(cache_requests_total{job="catalog",cache="products"}[30s]))';

describe('exercise 04 in lite mode', () => {
  beforeAll(() => lab.up(10), 300_000);
  afterAll(() => lab.down(), 90_000);

  // Seeds drawn so that each mode comes up once (seededRng(7), (1), (2) pick these).
  it.each([
    [7, 'bypass', 'wrong-key'],
    [1, 'ttl-zero', 'bypass'],
    [2, 'wrong-key', 'ttl-zero'],
  ])(
    'seed %i (%s): another mode fails, the right one with the cache broken fails the fix, the solution passes',
    async (seed, mode, other) => {
      await until('traffic flowing for a whole window', FLOWING);
      const { target } = await lab.start('04', seed);
      expect(target).toEqual({ mode });
      expect((await lab.check('04')).code).toBe(1);
      await until('a whole window of the broken cache', `${RATIO} < 0.1`);
      if (mode === 'wrong-key') expect((await cachedKeys('catalog:product:*:*')).length).toBeGreaterThan(0);
      else expect(await cachedKeys('catalog:product:*:*')).toEqual([]);

      expect((await lab.cli(['answer', '04', `mode=${other}`])).code).toBe(0);
      expect(item((await lab.check('04')).result, 'diagnosis/mode')?.passed).toBe(false);
      expect((await lab.cli(['answer', '04', 'mode=the cache'])).code).toBe(2);
      expect((await lab.cli(['answer', '04', `mode=${mode.toUpperCase().replace('-', ' ')}`])).code).toBe(0);
      const faultOn = await lab.check('04');
      expect(faultOn.code).toBe(1);
      expect(item(faultOn.result, 'diagnosis/mode')?.passed).toBe(true);
      expect(item(faultOn.result, 'fix/hit-ratio')?.passed).toBe(false);

      await lab.solve('04', target);
      await lab.expectPass('04', '120s');
      await lab.expectCleanLab();
    },
    300_000,
  );

  it('with the traffic stopped the fix never passes', async () => {
    const { target } = await lab.start('04', 7);
    await lab.solve('04', target);
    await lab.expectTrafficStoppedFails('04', 'fix/hit-ratio');
    await lab.expectCleanLab();
  }, 300_000);
});
