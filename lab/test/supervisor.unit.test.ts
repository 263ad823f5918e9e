import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { alive } from '../src/core/runtime/processes';
import { supervise as superviseWith, type Plan, type PlanComponent } from '../src/core/runtime/supervisor';

const supervise = (plan: Plan) => superviseWith(plan, () => undefined);

// Tiny real children: each start appends a line to a file, then the child crashes, or lives on
// (optionally ignoring SIGTERM) and notes when it was asked to stop.
const child = (name: string, script: string, stopOrder = 0): PlanComponent => ({
  name,
  command: process.execPath,
  args: ['-e', script],
  env: {},
  stopOrder,
});

const waitFor = async (what: () => boolean, ms: number) => {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('the supervisor', () => {
  let dir: string;
  const plan = (components: PlanComponent[], extra: Partial<Plan> = {}): Plan => ({
    cwd: dir,
    logs: path.join(dir, 'logs'),
    pids: path.join(dir, 'pids'),
    pidFile: path.join(dir, 'supervisor.pid'),
    components,
    ...extra,
  });
  const lines = (file: string) =>
    fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-supervisor-'));
  });

  it('restarts a crashing child after 1, 2, then 4 seconds, logging its output', async () => {
    const starts = path.join(dir, 'starts');
    const { stop } = supervise(
      plan([
        child(
          'crasher',
          `require('fs').appendFileSync(${JSON.stringify(starts)}, Date.now() + '\\n'); console.log('crashing'); process.exit(3)`,
        ),
      ]),
    );
    try {
      const crashed = () => lines(path.join(dir, 'logs', 'crasher.log')).filter((l) => l === 'crashing').length;
      await waitFor(() => lines(starts).length >= 4 && crashed() >= 4, 15_000);
    } finally {
      await stop();
    }
    const times = lines(starts).map(Number);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    [1_000, 2_000, 4_000].forEach((expected, i) => {
      expect(gaps[i]).toBeGreaterThanOrEqual(expected);
      // The gap also holds a Node start-up, which a busy machine can stretch to a couple of seconds.
      expect(gaps[i]).toBeLessThan(expected + 2_500);
    });
    expect(lines(path.join(dir, 'logs', 'crasher.log')).filter((l) => l === 'crashing').length).toBeGreaterThanOrEqual(
      4,
    );
  }, 25_000);

  it('goes back to the first delay once a child has stayed up long enough', async () => {
    const starts = path.join(dir, 'starts');
    // Lives 300 ms (longer than resetAfterMs), so every restart waits the initial 200 ms.
    const script = `require('fs').appendFileSync(${JSON.stringify(starts)}, Date.now() + '\\n'); setTimeout(() => process.exit(1), 300)`;
    const { stop } = supervise(
      plan([child('flaky', script)], { backoff: { initialMs: 200, maxMs: 5_000, resetAfterMs: 250 } }),
    );
    try {
      await waitFor(() => lines(starts).length >= 5, 10_000);
    } finally {
      await stop();
    }
    const times = lines(starts).map(Number);
    // Without the reset the 4th wait alone would be 1,600 ms (gap >= 1,900); with it every gap is
    // life + 200 ms + a Node start-up, which a busy machine stretches.
    for (let i = 1; i < 5; i++) expect(times[i] - times[i - 1]).toBeLessThan(300 + 200 + 1_200);
  }, 15_000);

  it('starts a child that exited cleanly again after the first delay, however often it does', async () => {
    const starts = path.join(dir, 'clean-starts');
    const script = `require('fs').appendFileSync(${JSON.stringify(starts)}, Date.now() + '\\n'); setTimeout(() => process.exit(0), 100)`;
    const delays: unknown[] = [];
    const { stop } = superviseWith(plan([child('clean', script)]), (event, fields) => {
      if (event === 'exited') delays.push(fields?.restartInMs);
    });
    await waitFor(() => lines(starts).length >= 4, 20_000);
    await stop();
    // A crash loop would wait 1, 2, then 4 s (the test above).
    expect(delays.slice(0, 3)).toEqual([1_000, 1_000, 1_000]);
  }, 25_000);

  it('records pids, stops children in order, and kills one that ignores SIGTERM', async () => {
    const stops = path.join(dir, 'stops');
    // Each child says when its SIGTERM handler is in place: a child signalled before that would
    // die silently, whatever the order (a fixed wait was too short on a loaded machine).
    const ready = path.join(dir, 'ready');
    const installed = (name: string) => `require('fs').appendFileSync(${JSON.stringify(ready)}, '${name}\\n');`;
    const note = (name: string) =>
      `process.on('SIGTERM', () => { require('fs').appendFileSync(${JSON.stringify(stops)}, '${name}\\n'); process.exit(0) }); ${installed(name)} setInterval(() => {}, 1000)`;
    const stubborn = `process.on('SIGTERM', () => require('fs').appendFileSync(${JSON.stringify(stops)}, 'stubborn\\n')); ${installed('stubborn')} setInterval(() => {}, 1000)`;
    const { stop } = supervise(
      plan(
        [
          child('traffic', note('traffic'), 0),
          child('stubborn', stubborn, 1),
          child('prometheus', note('prometheus'), 2),
        ],
        {
          stopTimeoutMs: 500,
        },
      ),
    );
    const pidsDir = path.join(dir, 'pids');
    await waitFor(() => fs.existsSync(pidsDir) && fs.readdirSync(pidsDir).length === 3, 5_000);
    await waitFor(() => fs.existsSync(ready) && lines(ready).length === 3, 5_000);
    const pids = fs.readdirSync(pidsDir).map((f) => Number(fs.readFileSync(path.join(pidsDir, f), 'utf8')));
    expect(pids.every(alive)).toBe(true);
    await stop();
    expect(lines(stops)).toEqual(['traffic', 'stubborn', 'prometheus']);
    expect(pids.some(alive)).toBe(false);
    expect(fs.readdirSync(pidsDir)).toEqual([]);
  }, 15_000);
});
