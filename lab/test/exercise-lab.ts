/**
 * One lite-mode lab for an exercise test file, driven the way a learner drives it: brought up from
 * nothing in a fresh LAB_HOME on the test file's own ports and schemas (jest runs files side by
 * side: two labs must share neither), starts and reference solutions in-process (they need the
 * target), everything else through the `lab` CLI; checks measure over a 30 s window.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { labPaths, ROOT } from '../src/core/paths';
import { TRAFFIC_FLOWING } from '../src/exercises/grader';
import { labRuntime, solveExercise, startExercise, type CheckResult, type Runtime } from '../src/exercises/runner';
import { alive, readPid, readPids } from '../src/core/runtime/processes';
import { eventually } from '../../test/support/eventually';
import { TEST_LABS, type TestLabName } from '../../test/support/test-labs';

const exec = promisify(execFile);
/** The checks of these labs measure over 30 s (LAB_CHECK_WINDOW below). */
const CHECK_WINDOW = '30s';
/** The grader's own "traffic is flowing", over this lab's window. */
export const FLOWING = TRAFFIC_FLOWING.replaceAll('$window', CHECK_WINDOW);

export const item = (result: CheckResult, name: string) => result.items.find((i) => i.name === name);

export type Sample = { metric: Record<string, string>; value: [number, string] };

/** The lab of one test file, on its ports and prefix in the table of test labs. */
export function exerciseLab(name: TestLabName) {
  const own = TEST_LABS[name];
  const PROMETHEUS = `http://127.0.0.1:${own.basePort + 1010}`;
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `lab-${name}-`));
  const env = {
    LAB_HOME: home,
    LAB_BASE_PORT: String(own.basePort),
    LAB_SCHEMA_PREFIX: own.schemaPrefix,
    LAB_CHECK_WINDOW: CHECK_WINDOW,
    NO_COLOR: '1',
  };
  const saved = { ...process.env };
  Object.assign(process.env, env); // the in-process start and solve find the same lab as the CLI
  const paths = labPaths(process.env);
  let rt: Runtime | undefined;
  let recorded: number[] = [];

  async function cli(args: string[], extra: Record<string, string> = {}) {
    try {
      const { stdout } = await exec(process.execPath, [path.join(ROOT, 'lab/bin/lab.js'), ...args], {
        env: { ...process.env, ...extra },
        timeout: 280_000,
      });
      return { code: 0, stdout, stderr: '' };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  /** An instant query on this lab's Prometheus. */
  async function query(promql: string): Promise<Sample[]> {
    const res = await fetch(`${PROMETHEUS}/api/v1/query?query=${encodeURIComponent(promql)}`);
    return ((await res.json()) as { data: { result: Sample[] } }).data.result;
  }
  const holds = async (promql: string) => (await query(promql)).length > 0;

  /** `lab check NN --json`, polling Prometheus for at most `timeout` (LAB_CHECK_TIMEOUT). */
  async function check(nn: string, timeout = '3s'): Promise<{ code: number; result: CheckResult }> {
    const { code, stdout, stderr } = await cli(['check', nn, '--json'], { LAB_CHECK_TIMEOUT: timeout });
    if (!stdout) throw new Error(`lab check ${nn} printed nothing (exit ${code}): ${stderr}`);
    return { code, result: JSON.parse(stdout) as CheckResult };
  }

  /** `lab check NN` passes: on a failure the items still failing are what the assertion shows. */
  async function expectPass(nn: string, timeout: string) {
    const { code, result } = await check(nn, timeout);
    expect(result.items.filter((i) => !i.passed)).toEqual([]);
    expect({ code, passed: result.passed }).toEqual({ code: 0, passed: true });
  }

  const runtime = () => {
    if (!rt) throw new Error('`lab up` did not succeed: see beforeAll');
    return rt;
  };

  return {
    gateway: `http://127.0.0.1:${own.basePort}`,
    cli,
    query,
    holds,
    check,
    expectPass,
    async up(rate = 5) {
      const up = await cli(['up', '--mode', 'lite', '--json']);
      recorded = [...readPids(paths.pids).values(), readPid(paths.supervisorPid) ?? 0];
      if (up.code !== 0) throw new Error(`lab up exited ${up.code}:\n${up.stderr}`);
      rt = labRuntime(paths, () => undefined, process.env);
      expect((await cli(['traffic', 'rate', String(rate)])).code).toBe(0);
      await eventually('traffic flowing for a whole window', 120_000, async () =>
        (await holds(FLOWING)) ? true : undefined,
      );
    },
    async down() {
      recorded = [...recorded, ...readPids(paths.pids).values(), readPid(paths.supervisorPid) ?? 0].filter(Boolean);
      const down = await cli(['down']);
      process.env = saved;
      fs.rmSync(home, { recursive: true, force: true });
      expect(down.code).toBe(0);
      expect(recorded.filter(alive)).toEqual([]);
    },
    start: (nn: string, seed: number) => startExercise(runtime(), nn, { seed }),
    /** The lab's fault control plane in-process, as the runner uses it (the CLI's is closed during an exercise). */
    faults: () => runtime().faults(),
    solve: (nn: string, target: object) => solveExercise(runtime(), nn, target),

    /** Stopping the traffic never passes a fix, whatever else holds; traffic starts again after. */
    async expectTrafficStoppedFails(nn: string, fix: string) {
      expect((await cli(['traffic', 'stop'])).code).toBe(0);
      // The grader's own traffic condition, not a rate at this instant: its subquery steps are
      // aligned to 5 s, so it sees the stop a few seconds after an instant query does.
      await eventually('Prometheus to see the traffic stopped', 60_000, async () =>
        (await holds(FLOWING)) ? undefined : true,
      );
      const stopped = await check(nn);
      expect(stopped.code).toBe(1);
      expect(item(stopped.result, 'fix/traffic')?.passed).toBe(false);
      expect(item(stopped.result, fix)?.passed).toBe(false);
      expect((await cli(['traffic', 'start'])).code).toBe(0);
    },

    /** After `lab reset`: every component healthy, no fault anywhere. */
    async expectCleanLab() {
      expect((await cli(['reset', '--json'])).code).toBe(0);
      const faults = JSON.parse((await cli(['faults', '--json'])).stdout) as {
        faults: unknown[];
        unreachable: string[];
      };
      expect(faults).toEqual({ faults: [], unreachable: [] });
      const status = JSON.parse((await cli(['status', '--json'])).stdout) as {
        components: Array<{ name: string; healthy: boolean }>;
      };
      expect(status.components.filter((c) => !c.healthy)).toEqual([]);
    },
  };
}
