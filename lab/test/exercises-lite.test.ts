/**
 * Every exercise, end to end in lite mode, the way a learner meets it: a lab brought up from
 * nothing (a fresh LAB_HOME, its own ports from LAB_BASE_PORT=2880 and its own schemas), then
 * for each exercise `lab start` -> `lab check` fails -> the scripted reference solution ->
 * `lab check` passes -> `lab reset` leaves every service healthy and every fault gone; with the
 * adversarial cases: a wrong answer, a right answer with the fault still active, stopped traffic,
 * an answer from another start. The start and the reference solution run in-process (they need
 * the target); everything else goes through the `lab` CLI. Needs the real MySQL, Redis and
 * RabbitMQ, Debian's prometheus and prometheus-alertmanager, ports 2880-4264 free, and a build
 * (`npx tsc -b`). Checks measure over a 30 s window (LAB_CHECK_WINDOW) to stay short.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { labPaths, ROOT } from '../src/paths';
import { labRuntime, solveExercise, startExercise, type CheckResult, type Runtime } from '../src/exercises/runner';
import { alive, readPid, readPids } from '../src/runtime/processes';
import { FLOWING } from './exercise-lab';

const exec = promisify(execFile);
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-exercises-lite-'));
const LAB_ENV = {
  LAB_HOME: home,
  LAB_BASE_PORT: '2880',
  LAB_SCHEMA_PREFIX: 'ex_',
  LAB_CHECK_WINDOW: '30s',
  NO_COLOR: '1',
};
const PROMETHEUS = 'http://127.0.0.1:3890';
const saved = { ...process.env };
Object.assign(process.env, LAB_ENV); // the in-process start and solve find the same lab as the CLI
const paths = labPaths(process.env);

async function lab(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout } = await exec(process.execPath, [path.join(ROOT, 'lab/bin/lab.js'), ...args], {
      env: { ...process.env, ...env },
      timeout: 280_000,
    });
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `lab check NN --json`, polling Prometheus for at most `timeout` (LAB_CHECK_TIMEOUT). */
async function check(nn: string, timeout = '3s'): Promise<{ code: number; result: CheckResult }> {
  const { code, stdout, stderr } = await lab(['check', nn, '--json'], { LAB_CHECK_TIMEOUT: timeout });
  if (!stdout) throw new Error(`lab check ${nn} printed nothing (exit ${code}): ${stderr}`);
  return { code, result: JSON.parse(stdout) as CheckResult };
}

const item = (result: CheckResult, name: string) => result.items.find((i) => i.name === name);

async function eventually<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

async function holds(query: string): Promise<boolean> {
  const res = await fetch(`${PROMETHEUS}/api/v1/query?query=${encodeURIComponent(query)}`);
  return ((await res.json()) as { data: { result: unknown[] } }).data.result.length > 0;
}

/** After `lab reset`: every component healthy, no fault anywhere. */
async function expectCleanLab() {
  const reset = await lab(['reset', '--json']);
  expect(reset.code).toBe(0);
  const faults = JSON.parse((await lab(['faults', '--json'])).stdout) as { faults: unknown[]; unreachable: string[] };
  expect(faults).toEqual({ faults: [], unreachable: [] });
  const status = JSON.parse((await lab(['status', '--json'])).stdout) as {
    components: Array<{ name: string; healthy: boolean }>;
  };
  expect(status.components.filter((c) => !c.healthy)).toEqual([]);
}

describe('the exercises in lite mode', () => {
  let rt: Runtime;
  let recorded: number[] = [];
  let isUp = false;
  const requireUp = () => {
    if (!isUp) throw new Error('`lab up` did not succeed: see beforeAll');
  };

  beforeAll(async () => {
    const up = await lab(['up', '--mode', 'native', '--json']);
    if (up.code !== 0) throw new Error(`lab up exited ${up.code}:\n${up.stderr}`);
    isUp = true;
    recorded = [...readPids(paths.pids).values(), readPid(paths.supervisorPid) ?? 0];
    rt = labRuntime(paths, () => undefined, process.env);
    // Enough history pages in every window for a p95 (the checkout journey ends on that page).
    expect((await lab(['traffic', 'rate', '10'])).code).toBe(0);
    await eventually('traffic flowing for a whole window', 120_000, async () =>
      (await holds(FLOWING)) ? true : undefined,
    );
  }, 300_000);

  afterAll(async () => {
    recorded = [...recorded, ...readPids(paths.pids).values(), readPid(paths.supervisorPid) ?? 0].filter(Boolean);
    const down = await lab(['down']);
    process.env = saved;
    expect(down.code).toBe(0);
    expect(recorded.filter(alive)).toEqual([]);
  }, 90_000);

  it('lists the exercises as JSON', async () => {
    requireUp();
    const list = JSON.parse((await lab(['exercises', '--json'])).stdout) as Array<Record<string, unknown>>;
    expect(list.map((e) => e.id)).toEqual(expect.arrayContaining(['01', '02', '03']));
    expect(Object.keys(list[0]).sort()).toEqual(['id', 'modes', 'signals', 'status', 'title', 'topics']);
  });

  it('01: a trace from another start fails; the checkout`s own trace passes', async () => {
    requireUp();
    const other = (await startExercise(rt, '01', { seed: 11 })).target as { traceId: string };
    const { target } = await startExercise(rt, '01', { seed: 12 });
    expect((await check('01')).code).toBe(1);
    expect((await lab(['solution', '01'])).code).toBe(1);
    expect((await lab(['answer', '01', `trace=${other.traceId}`, 'services=6'])).code).toBe(0);
    const stale = (await check('01')).result;
    expect(item(stale, 'diagnosis/trace')?.passed).toBe(false);
    // Either failure is right: the other start's checkout may not have reached the consumers yet.
    expect(item(stale, 'evidence/trace')).toMatchObject({
      passed: false,
      message: expect.stringMatching(/never mention|shows nothing from/),
    });
    expect(item(stale, 'diagnosis/services')?.passed).toBe(true);
    expect((await lab(['answer', '01', 'colour=red'])).code).toBe(2);

    await solveExercise(rt, '01', target);
    // The consumers log their part asynchronously, a moment after the checkout.
    await eventually('lab check 01 to pass', 30_000, async () => ((await check('01')).code === 0 ? true : undefined));
    expect((await lab(['solution', '01'])).code).toBe(0);
    await expectCleanLab();
  }, 180_000);

  it('02: a wrong replica fails, the right one with the fault on fails the fix, traffic stopped never passes', async () => {
    requireUp();
    const { target } = await startExercise(rt, '02', { seed: 2 });
    const { instance } = target as { instance: string };
    const wrong = instance === 'catalog-1' ? 'catalog-2' : 'catalog-1';
    const before = (await check('02')).result;
    expect(before.passed).toBe(false);
    await eventually('the 5xx of the bad replica to reach Prometheus', 60_000, async () =>
      (await holds(`sum(rate(http_server_request_duration_seconds_count{job="gateway",status_class="5xx"}[30s])) > 0`))
        ? true
        : undefined,
    );
    await lab(['answer', '02', `instance=${wrong}`]);
    expect(item((await check('02')).result, 'diagnosis/instance')?.passed).toBe(false);
    await lab(['answer', '02', `instance=${instance}`]);
    const faultOn = await check('02');
    expect(faultOn.code).toBe(1);
    expect(item(faultOn.result, 'diagnosis/instance')?.passed).toBe(true);
    expect(item(faultOn.result, 'fix/product-errors')?.passed).toBe(false);

    await solveExercise(rt, '02', target);
    const after = await check('02', '90s');
    expect(after).toMatchObject({ code: 0, result: { passed: true } });

    expect((await lab(['traffic', 'stop'])).code).toBe(0);
    await eventually('Prometheus to see the traffic stopped', 60_000, async () =>
      // The grader's own traffic condition, not a rate at this instant: its subquery steps are
      // aligned to 5 s, so it sees the stop a few seconds after an instant query does.
      (await holds(FLOWING)) ? undefined : true,
    );
    const stopped = await check('02');
    expect(stopped.code).toBe(1);
    expect(item(stopped.result, 'fix/traffic')?.passed).toBe(false);
    expect(item(stopped.result, 'fix/product-errors')?.passed).toBe(false);
    expect((await lab(['traffic', 'start'])).code).toBe(0);
    await expectCleanLab();
  }, 300_000);

  it('03: the fix layer fails while the index is missing, passes once it is built again', async () => {
    requireUp();
    await eventually('traffic flowing for a whole window', 90_000, async () =>
      (await holds(FLOWING)) ? true : undefined,
    );
    const { target } = await startExercise(rt, '03', { seed: 3 });
    await lab(['answer', '03', 'route=GET /api/orders', 'table=orders']);
    await eventually('the slow history pages to fill a window', 90_000, async () =>
      (await holds(
        'histogram_quantile(0.95, sum by (le) (rate(http_server_request_duration_seconds_bucket{job="orders",route="/orders",method="GET"}[30s]))) > 0.1',
      ))
        ? true
        : undefined,
    );
    const slow = await check('03');
    expect(slow.code).toBe(1);
    expect(item(slow.result, 'diagnosis/route')?.passed).toBe(true);
    expect(item(slow.result, 'diagnosis/table')?.passed).toBe(true);
    expect(item(slow.result, 'fix/history-p95')?.passed).toBe(false);

    await solveExercise(rt, '03', target);
    expect(await check('03', '120s')).toMatchObject({ code: 0, result: { passed: true } });
    await expectCleanLab();
    const progress = JSON.parse((await lab(['progress', '--json'])).stdout) as Array<{ id: string; passes: number }>;
    expect(progress.filter((p) => p.passes > 0).map((p) => p.id)).toEqual(['01', '02', '03']);
  }, 300_000);
});
