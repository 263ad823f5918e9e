/**
 * The grader's probe fixes (a check the lab makes itself where no PromQL can see the fix), against
 * a stand-in Prometheus that answers whether traffic flows: a probe runs once per check, passes
 * only with traffic flowing, and a failing one ends the check at once with its own message.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { defineExercise, type FixProbe, type ProbeContext } from '../src/exercises/api';
import { gradeFix } from '../src/exercises/grader';

let flowing = true;
const prometheus = http.createServer((_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ status: 'success', data: { result: flowing ? [{ value: [0, '1'] }] : [] } }));
});
let url = '';
const context = { facts: {} } as unknown as ProbeContext;
const settings = { window: '30s', timeoutMs: 5_000, pollMs: 100 };

function probe(problem: string | undefined): FixProbe & { runs: number } {
  const fix = {
    name: 'trace',
    description: "a fresh checkout's trace reaches the consumers",
    runs: 0,
    async probe() {
      fix.runs += 1;
      return problem;
    },
  };
  return fix;
}

beforeAll(async () => {
  await new Promise<void>((resolve) => prometheus.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(prometheus.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => prometheus.close(() => resolve())));

describe('probe fixes', () => {
  it('pass once the probe finds nothing wrong, with traffic flowing', async () => {
    flowing = true;
    const fix = probe(undefined);
    const items = await gradeFix([fix], url, settings, context);
    expect(items.map((i) => [i.name, i.passed])).toEqual([
      ['fix/traffic', true],
      ['fix/trace', true],
    ]);
    expect(fix.runs).toBe(1);
  });

  it('fail at once with what the probe found, without polling until the deadline', async () => {
    flowing = true;
    const fix = probe('trace 4bf9 shows nothing from inventory');
    const started = Date.now();
    const items = await gradeFix([fix], url, settings, context);
    expect(Date.now() - started).toBeLessThan(settings.timeoutMs);
    expect(items[1]).toEqual({
      name: 'fix/trace',
      passed: false,
      message: "not yet: a fresh checkout's trace reaches the consumers (trace 4bf9 shows nothing from inventory)",
    });
    expect(fix.runs).toBe(1);
  });

  it('never pass with the traffic stopped', async () => {
    flowing = false;
    const items = await gradeFix([probe(undefined)], url, { ...settings, timeoutMs: 300 }, context);
    expect(items.map((i) => i.passed)).toEqual([false, false]);
  });

  it('need no $window in a definition, unlike a query', () => {
    const base = {
      id: '92',
      slug: 'probe',
      title: 'Probe',
      topics: ['fixtures'],
      signals: ['traces' as const],
      modes: ['lite' as const],
      setup: async () => ({}),
      answers: { word: { prompt: 'a word', example: 'a', expected: () => 'a' } },
      solve: async () => undefined,
    };
    expect(() => defineExercise({ ...base, fix: [probe(undefined)] })).not.toThrow();
    expect(() => defineExercise({ ...base, fix: [{ name: 'q', description: 'd', query: 'up' }] })).toThrow(
      'does not measure over $window',
    );
  });
});
