/**
 * Exercise 14 (writing an alert rule) end to end in lite mode: a lab from nothing (ports from
 * the base port of its row in test/support/test-labs.ts, schemas, queues and Redis keys prefixed exo_), `lab start` -> `lab check`
 * fails (only the skeleton is written) -> rules that are broken, miss `for:`, use the wrong
 * threshold or another start's threshold each fail, with promtool's words -> the reference rule
 * passes the hidden promtool cases and fires on the lab's Prometheus, and pages -> stopped traffic
 * never passes -> `lab reset` leaves every service healthy, every fault gone and Prometheus with
 * the lab's rules only, and keeps the learner's file. Needs the real MySQL, Redis and RabbitMQ,
 * Debian's prometheus (promtool too) and prometheus-alertmanager, ports 2580-3964 free, and a
 * build (`npx tsc -b`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { exerciseLab, item } from './exercise-lab';
import { eventually } from '../../test/support/eventually';
import { TEST_LABS } from '../../test/support/test-labs';

const BASE_PORT = TEST_LABS['exercises-14'].basePort;
const lab = exerciseLab('exercises-14');
const PROMETHEUS = `http://127.0.0.1:${BASE_PORT + 1010}`;

interface Target {
  alert: string;
  route: string;
  thresholdMs: number;
  forMinutes: number;
  file: string;
}

/** A learner's rule file: one alert on the route's p95 at the gateway. */
function rule(t: Target, change: { thresholdMs?: number; for?: string | null } = {}): string {
  const seconds = (change.thresholdMs ?? t.thresholdMs) / 1000;
  const holdFor = change.for === undefined ? `${t.forMinutes}m` : change.for;
  return [
    'groups:',
    '  - name: learner',
    '    rules:',
    `      - alert: ${t.alert}`,
    `        expr: histogram_quantile(0.95, sum by (le) (rate(http_server_request_duration_seconds_bucket{job="gateway",route="${t.route}"}[1m]))) > ${seconds}`,
    ...(holdFor ? [`        for: ${holdFor}`] : []),
    '        labels:',
    '          severity: page',
    '',
  ].join('\n');
}

/** The alerting rules Prometheus loaded from the learner's folder. */
async function learnerAlerts(): Promise<string[]> {
  const res = await fetch(`${PROMETHEUS}/api/v1/rules?type=alert`);
  const { data } = (await res.json()) as { data: { groups: Array<{ file: string; rules: Array<{ name: string }> }> } };
  return data.groups.filter((g) => g.file.includes('/learner/')).flatMap((g) => g.rules.map((r) => r.name));
}

async function ruleTests(file: string, text: string) {
  fs.writeFileSync(file, text);
  const { code, result } = await lab.check('14');
  expect(code).toBe(1);
  expect(item(result, 'diagnosis/missed')?.passed).toBe(true);
  expect(item(result, 'fix/fires-live')).toMatchObject({
    passed: false,
    message: expect.stringContaining('not tried'),
  });
  return item(result, 'fix/rule-tests');
}

describe('exercise 14 in lite mode', () => {
  beforeAll(() => lab.up(), 300_000);
  afterAll(() => lab.down(), 90_000);

  it('grades the learner`s alert by hidden promtool cases and by its firing live', async () => {
    // Seed 4 and seed 6 ask for the same alert on the same route, at 200 ms and 300 ms.
    const other = (await lab.start('14', 4)).target as Target;
    const target = (await lab.start('14', 6)).target as Target;
    expect(other).toMatchObject({ alert: 'AccountPageSlow', route: '/api/auth/me', thresholdMs: 200 });
    expect(target).toMatchObject({ alert: 'AccountPageSlow', route: '/api/auth/me', thresholdMs: 300, forMinutes: 1 });
    // The learner's file lives in the lab home, never in the repository's exercise folder.
    expect(target.file).toBe(path.join(process.env.LAB_HOME ?? '', 'exercises/14-write-an-alert/answer.rules.yml'));

    // After the start: a skeleton without a rule, nothing of the learner's in Prometheus.
    expect(fs.readFileSync(target.file, 'utf8')).toMatch(/^groups:$/m);
    expect(await learnerAlerts()).toEqual([]);
    const fresh = await lab.check('14');
    expect(fresh.code).toBe(1);
    expect(item(fresh.result, 'diagnosis/missed')?.passed).toBe(false);
    expect(item(fresh.result, 'fix/rule-tests')?.message).toContain('defines no alert named AccountPageSlow');
    expect(item(fresh.result, 'fix/fires-live')?.passed).toBe(false);
    expect((await lab.cli(['solution', '14'])).code).toBe(1);

    await lab.cli(['answer', '14', 'missed=HighErrorRate']);
    expect(item((await lab.check('14')).result, 'diagnosis/missed')?.passed).toBe(false);
    await lab.cli(['answer', '14', 'missed=HighLatencyP95']);

    // Broken YAML: promtool's own message, from `lab check` and from `lab rules load`, never a crash.
    const broken = rule(target).replace('        labels:', '       labels:');
    const refused = await ruleTests(target.file, broken);
    expect(refused?.message).toMatch(/promtool check rules refuses .*answer\.rules\.yml: .*yaml: line \d+/);
    const load = await lab.cli(['rules', 'load']);
    expect(load.code).toBe(1);
    expect(load.stderr).toMatch(/promtool check rules refused your rules; nothing was loaded:[\s\S]*yaml: line \d+/);
    expect(await learnerAlerts()).toEqual([]);

    // No `for:`: it pages at the first slow evaluation.
    const noFor = await ruleTests(target.file, rule(target, { for: null }));
    expect(noFor?.message).toMatch(/1 of 6 hidden cases failed: .*must not fire before it has held for 1m/);
    expect(noFor?.message).toContain('promtool: alertname: AccountPageSlow, time: 2m30s, exp:[], got:[');

    // The wrong threshold (the lab's own 500 ms): the route at 490 ms never pages.
    const high = await ruleTests(target.file, rule(target, { thresholdMs: 500 }));
    expect(high?.message).toMatch(
      /hidden cases failed: .*at 490 ms, just over 300 ms, from minute 2 on: must be firing/,
    );

    // Another start's rule (200 ms): it pages at 295 ms, under this start's threshold.
    const another = await ruleTests(target.file, rule(other));
    expect(another?.message).toMatch(
      /1 of 6 hidden cases failed: the p95 of \/api\/auth\/me at 295 ms, just under 300 ms/,
    );

    // The reference rule: every hidden case passes, Prometheus loads it, it fires, it pages.
    await lab.solve('14', target);
    expect(await learnerAlerts()).toEqual(['AccountPageSlow']);
    const passed = await lab.check('14', '90s');
    expect(passed.result.items.filter((i) => !i.passed)).toEqual([]);
    expect(passed).toMatchObject({ code: 0, result: { passed: true } });
    expect(await lab.holds('ALERTS{alertname="AccountPageSlow",alertstate="firing"}')).toBe(true);
    await eventually('AccountPageSlow to page', 90_000, async () => {
      const { pages } = JSON.parse((await lab.cli(['pages', '--json'])).stdout) as {
        pages: Array<{ alertname: string; severity: string; status: string }>;
      };
      return pages.find((p) => p.alertname === 'AccountPageSlow' && p.severity === 'page' && p.status === 'firing');
    });
    expect((await lab.cli(['solution', '14'])).code).toBe(0);

    await lab.expectTrafficStoppedFails('14', 'fix/fires-live');

    // Reset: no fault, every component healthy, Prometheus without the learner's rule; the file stays.
    await lab.expectCleanLab();
    expect(await learnerAlerts()).toEqual([]);
    expect(fs.readFileSync(target.file, 'utf8')).toContain('alert: AccountPageSlow');
  }, 720_000);
});
