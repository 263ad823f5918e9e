/**
 * The lite-mode supervisor: a detached process that runs every lab component as its child,
 * restarts a child that dies (1 s doubling to 30 s; back to 1 s after 60 s up), appends its
 * output to .lab/logs/<name>.log, records its pid in .lab/pids/<name>.pid, and on SIGTERM stops
 * the children in order (traffic first, Prometheus last) before exiting.
 * Deploys: a child is started with its plan's env plus its entry in the overrides file
 * (.lab/overrides.json, `{ "<name>": { "config": { "VAR": "value" }, "release": {...} } }`, sealed
 * with the plan's secret: a release an exercise deployed must not be readable there); on SIGUSR2
 * the supervisor re-reads that file and restarts at once, without backoff, every child whose
 * entry changed.
 * Started as `node lab/dist/core/runtime/supervisor.js <plan.json>`; `lab up` writes the plan.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { isSealed, unseal } from '../sealed';

export interface PlanComponent {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  stopOrder: number;
}

export interface Plan {
  cwd: string;
  logs: string;
  pids: string;
  pidFile: string;
  backoff?: { initialMs: number; maxMs: number; resetAfterMs: number };
  stopTimeoutMs?: number;
  /** Per-child environment overrides, read at every (re)start; see reload(). */
  overrides?: string;
  /** The secret the overrides file is sealed with (LAB_TOKEN); without one it is plain JSON. */
  secret?: string;
  components: PlanComponent[];
}

/**
 * An instance's overrides, in layers: `config` is what `lab config set` gave its service (factor
 * 3: config in the environment), `release` what a deploy put on it (a version). A rollback drops
 * the release and keeps the config; `lab reset` drops both.
 */
export type OverrideLayer = 'config' | 'release';
export type Overrides = Record<string, Partial<Record<OverrideLayer, Record<string, string>>>>;

/** The overrides file; missing or unreadable means none (a half-written file is retried at the next reload). */
export function readOverrides(file: string | undefined, secret?: string): Overrides {
  if (!file || !fs.existsSync(file)) return {};
  try {
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    return isSealed(stored) && secret ? unseal<Overrides>(secret, stored) : (stored as Overrides);
  } catch {
    return {};
  }
}

/** The environment an entry adds to the plan's: the release wins over the config. */
export const overrideEnv = (entry: Overrides[string] = {}): Record<string, string> => ({
  ...entry.config,
  ...entry.release,
});

export const DEFAULT_BACKOFF = { initialMs: 1_000, maxMs: 30_000, resetAfterMs: 60_000 };

interface Running {
  spec: PlanComponent;
  child?: ChildProcess;
  startedAt: number;
  delayMs: number;
  timer?: NodeJS.Timeout;
  exited?: Promise<void>;
  applied: string; // the overrides it was started with, as JSON
  redeploying?: boolean;
}

export type Log = (event: string, fields?: Record<string, unknown>) => void;

const stdoutLog: Log = (event, fields = {}) =>
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), service: 'supervisor', event, ...fields })}\n`,
  );

export function supervise(plan: Plan, log: Log = stdoutLog): { stop: () => Promise<void>; reload: () => void } {
  const backoff = plan.backoff ?? DEFAULT_BACKOFF;
  const stopTimeoutMs = plan.stopTimeoutMs ?? 10_000;
  fs.mkdirSync(plan.logs, { recursive: true });
  fs.mkdirSync(plan.pids, { recursive: true });
  let stopping = false;
  const pidFile = (name: string) => path.join(plan.pids, `${name}.pid`);

  const overridesOf = (name: string) => overrideEnv(readOverrides(plan.overrides, plan.secret)[name]);

  // A redeploy may be an exercise's fault (a bad release on one replica): the supervisor's own
  // log says that one happened, never where or with what; the instance's log shows its new start.
  const start = (run: Running, redeploy = false) => {
    const out = fs.openSync(path.join(plan.logs, `${run.spec.name}.log`), 'a');
    const overrides = overridesOf(run.spec.name);
    run.applied = JSON.stringify(overrides);
    const child = spawn(run.spec.command, run.spec.args, {
      cwd: plan.cwd,
      env: { ...process.env, ...run.spec.env, ...overrides },
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    run.child = child;
    run.startedAt = Date.now();
    run.exited = new Promise((resolve) => child.once('close', () => resolve()));
    if (child.pid) fs.writeFileSync(pidFile(run.spec.name), `${child.pid}\n`);
    if (redeploy) log('redeployed one instance');
    else log('started', { component: run.spec.name, pid: child.pid });
    // A command that cannot be spawned at all (not installed) is retried like one that crashed.
    child.once('error', (err) => log('spawn failed', { component: run.spec.name, error: err.message }));
    child.once('close', (code, signal) => {
      fs.rmSync(pidFile(run.spec.name), { force: true });
      run.child = undefined;
      if (stopping) return;
      if (run.redeploying) {
        run.redeploying = false;
        return start(run, true);
      }
      // A clean exit (code 0: a graceful shutdown, as `lab restart` asks for) is not a crash: it
      // neither waits out nor grows the backoff, however often an operator restarts.
      const clean = code === 0;
      if (clean || Date.now() - run.startedAt >= backoff.resetAfterMs) run.delayMs = backoff.initialMs;
      log('exited', { component: run.spec.name, code, signal, restartInMs: run.delayMs });
      run.timer = setTimeout(() => start(run), run.delayMs);
      if (!clean) run.delayMs = Math.min(run.delayMs * 2, backoff.maxMs);
    });
  };

  const runs: Running[] = plan.components.map((spec) => ({
    spec,
    startedAt: 0,
    delayMs: backoff.initialMs,
    applied: '{}',
  }));
  // Prometheus first and traffic last: the reverse of the stop order.
  for (const run of [...runs].sort((a, b) => b.spec.stopOrder - a.spec.stopOrder)) start(run);

  const stopOne = async (run: Running) => {
    clearTimeout(run.timer);
    const child = run.child;
    if (!child) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => {
      log('did not stop in time, killing', { component: run.spec.name });
      child.kill('SIGKILL');
    }, stopTimeoutMs);
    await run.exited;
    clearTimeout(killer);
    log('stopped', { component: run.spec.name });
  };

  const stop = async () => {
    stopping = true;
    const orders = [...new Set(runs.map((r) => r.spec.stopOrder))].sort((a, b) => a - b);
    for (const order of orders) await Promise.all(runs.filter((r) => r.spec.stopOrder === order).map(stopOne));
  };
  /** Restarts now every child whose overrides changed since it started: a deploy, not a crash. */
  const reload = () => {
    if (stopping) return;
    for (const run of runs.filter((r) => JSON.stringify(overridesOf(r.spec.name)) !== r.applied)) {
      clearTimeout(run.timer);
      run.delayMs = backoff.initialMs;
      const child = run.child;
      if (!child) {
        start(run, true);
        continue;
      }
      run.redeploying = true;
      child.kill('SIGTERM');
      setTimeout(() => {
        if (run.child === child) child.kill('SIGKILL');
      }, stopTimeoutMs).unref();
    }
  };
  return { stop, reload };
}

function main(planFile: string): void {
  const plan = JSON.parse(fs.readFileSync(planFile, 'utf8')) as Plan;
  fs.writeFileSync(plan.pidFile, `${process.pid}\n`);
  const { stop, reload } = supervise(plan);
  const log = stdoutLog;
  let shuttingDown = false;
  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log('stopping', { signal });
    void stop().then(() => {
      fs.rmSync(plan.pidFile, { force: true });
      log('stopped all');
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // `lab fault inject bad-release` writes the overrides file, then asks for a reload.
  process.on('SIGUSR2', reload);
  // Detached from the terminal that ran `lab up`: a closed terminal must not stop the lab.
  process.on('SIGHUP', () => undefined);
}

if (require.main === module) main(process.argv[2]);
