import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { provisionSchema } from '@shopnow/kit/mysql';
import { LabError } from '../errors';
import { isHealthy, sleep } from '../http';
import type { Progress } from '../progress';
import { ROOT, workspaces, type LabPaths } from '../paths';
import type { Component } from '../topology';
import { writeObservabilityConfig } from './observability';
import { alive, readPid, readPids, signal } from './processes';
import { readEnv } from '../env-file';
import { seal } from '../sealed';
import { overrideEnv, readOverrides, type OverrideLayer, type Overrides, type Plan } from './supervisor';

/** Runs scripts/backends.sh (ensure | stop), its output shown as progress. */
export function backends(action: 'ensure' | 'stop', progress: Progress): void {
  const result = spawnSync('bash', [path.join(ROOT, 'scripts/backends.sh'), action], { cwd: ROOT, encoding: 'utf8' });
  for (const line of `${result.stdout}${result.stderr}`.split('\n').filter(Boolean)) progress(`    ${line}`);
  if (result.status !== 0) throw new LabError(`scripts/backends.sh ${action} failed`);
}

/** One schema and one MySQL user per service (database per service); idempotent. */
export async function provision(list: Component[], adminUrl: string): Promise<string[]> {
  const schemas = new Map(list.flatMap((c) => (c.schema ? [[c.schema.name, c.schema] as const] : [])));
  for (const schema of schemas.values()) {
    if (!schema.password) throw new LabError(`no password for schema ${schema.name} in .env`);
    await provisionSchema(adminUrl, schema.name, schema.user, schema.password);
  }
  return [...schemas.keys()];
}

/** The newest TypeScript source under `dir` (its build output and packages left out). */
function newest(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  return Math.max(
    0,
    ...fs.readdirSync(dir, { withFileTypes: true }).map((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === 'dist' || entry.name === 'node_modules' ? 0 : newest(full);
      return entry.name.endsWith('.ts') ? fs.statSync(full).mtimeMs : 0;
    }),
  );
}

/** Projects whose dist is missing or older than their sources (tsc -b writes tsbuildinfo last). */
export function staleProjects(root = ROOT): string[] {
  // exercises/ is no workspace, but the lab loads exercises/dist: a stale one would check against old definitions.
  return [...workspaces(root), 'exercises'].filter((project) => {
    const info = path.join(root, project, 'tsconfig.tsbuildinfo');
    if (!fs.existsSync(path.join(root, project, 'dist')) || !fs.existsSync(info)) return true;
    // exercises/ has no src/: its sources are exercises/NN-slug/*.ts.
    const sources = fs.existsSync(path.join(root, project, 'src'))
      ? path.join(root, project, 'src')
      : path.join(root, project);
    return newest(sources) > fs.statSync(info).mtimeMs;
  });
}

export function build(root = ROOT): void {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  const result = spawnSync(process.execPath, [tsc, '-b'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) throw new LabError(`the build failed (npx tsc -b):\n${result.stdout}${result.stderr}`);
}

export function supervisorPid(paths: LabPaths): number | undefined {
  const pid = readPid(paths.supervisorPid);
  return pid && alive(pid) ? pid : undefined;
}

/** Writes the plan and the Prometheus/Alertmanager configs, then starts the detached supervisor. */
export function startSupervisor(paths: LabPaths, list: Component[]): number {
  writeObservabilityConfig(paths, list);
  const plan: Plan = {
    cwd: ROOT,
    logs: paths.logs,
    pids: paths.pids,
    pidFile: paths.supervisorPid,
    overrides: paths.overrides,
    secret: labSecret(paths),
    components: list.map(({ name, command, args, env, stopOrder }) => ({ name, command, args, env, stopOrder })),
  };
  fs.mkdirSync(paths.logs, { recursive: true });
  fs.writeFileSync(paths.plan, JSON.stringify(plan, null, 2), { mode: 0o600 });
  const out = fs.openSync(path.join(paths.logs, 'supervisor.log'), 'a');
  const child = spawn(process.execPath, [path.join(ROOT, 'lab/dist/core/runtime/supervisor.js'), paths.plan], {
    cwd: ROOT,
    detached: true, // its own process group: it outlives `lab up` and the terminal
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  child.unref();
  if (!child.pid) throw new LabError('could not start the supervisor');
  return child.pid;
}

export interface Health {
  name: string;
  healthy: boolean;
  url: string;
}

export async function checkAll(list: Component[]): Promise<Health[]> {
  return Promise.all(list.map(async (c) => ({ name: c.name, healthy: await isHealthy(c.health), url: c.url })));
}

/** Polls every health URL until all answer or the deadline passes; says when each comes up. */
export async function waitHealthy(list: Component[], deadlineMs: number, progress: Progress): Promise<Health[]> {
  const started = Date.now();
  const up = new Set<string>();
  for (;;) {
    const health = await checkAll(list);
    for (const h of health.filter((h) => h.healthy && !up.has(h.name))) {
      up.add(h.name);
      progress(`    ${h.name} is healthy (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
    if (up.size === list.length || Date.now() - started > deadlineMs) return health;
    await sleep(500);
  }
}

/**
 * Stops the supervisor (which stops its children in order) and waits until it and every pid it
 * recorded are gone. Should the supervisor be gone already, its orphans are stopped directly.
 */
export async function stopLite(paths: LabPaths, progress: Progress, timeoutMs = 30_000): Promise<string[]> {
  const children = readPids(paths.pids);
  const supervisor = supervisorPid(paths);
  const pids = [...children.values(), ...(supervisor ? [supervisor] : [])];
  if (supervisor) signal(supervisor, 'SIGTERM');
  else for (const pid of children.values()) signal(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (pids.some(alive) && Date.now() < deadline) await sleep(200);
  const stubborn = pids.filter(alive);
  for (const pid of stubborn) {
    progress(`    pid ${pid} did not stop: killing it`);
    signal(pid, 'SIGKILL');
  }
  fs.rmSync(paths.pids, { recursive: true, force: true });
  fs.rmSync(paths.supervisorPid, { force: true });
  return [...children.keys()];
}

/** The secret the lab seals its records with: LAB_TOKEN of .env (core/sealed.ts says why). */
export const labSecret = (paths: LabPaths): string => readEnv(paths.envFile).LAB_TOKEN ?? '';

/** The overrides every instance runs with now (`lab config show`, a redeploy). */
export const currentOverrides = (paths: LabPaths): Overrides => readOverrides(paths.overrides, labSecret(paths));

/**
 * Restarts one instance with one layer of its overrides replaced (a release version, a service's
 * config), or without that layer when `env` is undefined, or as planned with `layer` 'all':
 * writes .lab/overrides.json, asks the supervisor to reload (SIGUSR2), then waits for a new
 * process that answers healthy. Nothing changed: nothing restarts.
 */
export async function redeploy(
  paths: LabPaths,
  component: Component,
  layer: OverrideLayer | 'all',
  env: Record<string, string> | undefined,
  timeoutMs = 90_000,
): Promise<void> {
  const supervisor = supervisorPid(paths);
  if (!supervisor) throw new LabError('the lab is not running (no supervisor): `lab up` first');
  const all = currentOverrides(paths);
  const kept = Object.entries(all[component.name] ?? {}).filter(([name]) => layer !== 'all' && name !== layer);
  const entry: Overrides[string] = Object.fromEntries(env && layer !== 'all' ? [...kept, [layer, env]] : kept);
  const next = Object.fromEntries([
    ...Object.entries(all).filter(([name]) => name !== component.name),
    ...(Object.keys(entry).length ? [[component.name, entry] as const] : []),
  ]);
  const pidFile = path.join(paths.pids, `${component.name}.pid`);
  const before = readPid(pidFile);
  // Written whole and renamed: the supervisor never reads a half-written file.
  fs.writeFileSync(`${paths.overrides}.tmp`, JSON.stringify(seal(labSecret(paths), next)), { mode: 0o600 });
  fs.renameSync(`${paths.overrides}.tmp`, paths.overrides);
  // The supervisor restarts a child only when its environment changes (supervisor.ts reload()).
  if (JSON.stringify(overrideEnv(all[component.name])) === JSON.stringify(overrideEnv(entry))) return;
  signal(supervisor, 'SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = readPid(pidFile);
    if (now && now !== before && (await isHealthy(component.health))) return;
    if (Date.now() > deadline)
      throw new LabError(`${component.name} was not back and healthy within ${timeoutMs / 1000} s; see ${paths.logs}`);
    await sleep(250);
  }
}
