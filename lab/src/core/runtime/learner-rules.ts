import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LabError } from '../errors';
import { getJson, request, sleep, Unreachable } from '../http';
import type { Mode } from '../mode';
import { ROOT, type LabPaths } from '../paths';
import { endpoint } from './stack';

/**
 * The learner's own Prometheus rules. They write `exercises/NN-slug/answer.rules.yml` (under the
 * lab home); `lab rules load` checks every such file with promtool and, only when all pass,
 * installs them where prometheus.yml reads `learner/*.rules.yml` (.lab/prometheus/learner:
 * beside the config in lite mode, mounted at /etc/prometheus/learner by docker-compose.yml) and
 * reloads Prometheus. `lab reset` uninstalls them; the learner's files stay where they are.
 */
export const ANSWER_RULES = 'answer.rules.yml';
/** The lab's own rule files (their recording rules may be used in a learner's rule). */
export const LAB_RULES_DIR = path.join(ROOT, 'observability/prometheus/rules');
export const installedRulesDir = (paths: LabPaths) => path.join(paths.prometheus, 'learner');
export const answerRulesFile = (paths: LabPaths, folder: string) =>
  path.join(paths.home, 'exercises', path.basename(folder), ANSWER_RULES);

interface Run {
  code: number;
  output: string;
}

function run(command: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** The image docker-compose.yml pins, so a machine without promtool uses the same one. */
function prometheusImage(): string {
  const compose = fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
  const image = /image:\s*(prom\/prometheus:\S+)/.exec(compose)?.[1];
  if (!image) throw new LabError('docker-compose.yml names no prom/prometheus image');
  return image;
}

/**
 * promtool from this machine (Debian's `prometheus` package has it), else, in the full stack, from
 * the pinned Prometheus image with the folders it reads mounted at the same paths.
 */
async function promtool(mode: Mode, args: string[], folders: string[]): Promise<Run> {
  try {
    return await run('promtool', args);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (mode !== 'full')
      throw new LabError('promtool is not installed: it comes with Prometheus (Debian: apt-get install prometheus)');
    const mounts = [...new Set(folders)].flatMap((folder) => ['-v', `${folder}:${folder}:ro`]);
    return run('docker', [
      'run',
      '--rm',
      '--network',
      'none',
      ...mounts,
      '--entrypoint',
      'promtool',
      prometheusImage(),
      ...args,
    ]);
  }
}

/** promtool's own words, without its banner lines, each once. */
const promtoolSays = (output: string) =>
  [
    ...new Set(
      output
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line && !/^(Checking |Unit Testing: |SUCCESS|FAILED:$)/.test(line)),
    ),
  ].join(' ');

/** `promtool check rules <file>`: undefined when it passes, else what promtool says is wrong. */
export async function checkRules(mode: Mode, file: string): Promise<string | undefined> {
  const result = await promtool(mode, ['check', 'rules', file], [path.dirname(file)]);
  return result.code === 0 ? undefined : promtoolSays(result.output) || `promtool exited ${result.code}`;
}

/** A `promtool test rules` file: the rule files (absolute paths) and its test groups. */
export interface RuleTest {
  ruleFiles: string[];
  evaluationInterval: string;
  tests: object[];
}

/** Runs one promtool unit test file made of `spec`; passed, and promtool's words when not. */
export async function testRules(mode: Mode, spec: RuleTest): Promise<{ passed: boolean; output: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-rule-test-'));
  try {
    const file = path.join(dir, 'cases.test.yml');
    // JSON is YAML: promtool reads it as it is.
    const body = { rule_files: spec.ruleFiles, evaluation_interval: spec.evaluationInterval, tests: spec.tests };
    fs.writeFileSync(file, JSON.stringify(body));
    const result = await promtool(mode, ['test', 'rules', file], [dir, ...spec.ruleFiles.map((f) => path.dirname(f))]);
    return { passed: result.code === 0, output: result.code === 0 ? '' : promtoolSays(result.output) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Every answer.rules.yml under the lab home's exercises/NN-slug/ folders. */
export function answerRulesFiles(paths: LabPaths): string[] {
  const dir = path.join(paths.home, 'exercises');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((folder) => /^\d{2}-[a-z0-9-]+$/.test(folder))
    .map((folder) => path.join(dir, folder, ANSWER_RULES))
    .filter((file) => fs.existsSync(file));
}

export interface LoadedAlert {
  name: string;
  state: string; // inactive | pending | firing
  health: string; // ok | err | unknown
  lastError?: string;
  lastEvaluation: string;
  file: string;
}

type RulesApi = {
  data: { groups: Array<{ file: string; rules: Array<Omit<LoadedAlert, 'file'> & { type: string }> }> };
};

/** The learner's alerting rules as the running Prometheus has them: their state and health. */
export async function loadedAlerts(paths: LabPaths, mode: Mode): Promise<LoadedAlert[]> {
  const url = `${endpoint(mode, paths, 'prometheus').url}/api/v1/rules?type=alert`;
  const { data } = await getJson<RulesApi>(url, 10_000);
  return data.groups
    .filter((group) => group.file.includes('/learner/'))
    .flatMap((group) =>
      group.rules.map(({ name, state, health, lastError, lastEvaluation }) => ({
        name,
        state,
        health,
        lastError,
        lastEvaluation,
        file: group.file,
      })),
    );
}

/** POST /-/reload (the lifecycle API is on in both modes); says what Prometheus refused. */
async function reloadPrometheus(paths: LabPaths, mode: Mode): Promise<void> {
  const res = await request(`${endpoint(mode, paths, 'prometheus').url}/-/reload`, { method: 'POST' }, 30_000);
  if (!res.ok) throw new LabError(`Prometheus refused to reload: ${(await res.text()).trim()}`);
}

const reloaded = (paths: LabPaths, mode: Mode) =>
  reloadPrometheus(paths, mode).catch((err: unknown) => {
    if (err instanceof Unreachable) throw new LabError(`Prometheus did not reload (${err.message}): is the lab up?`);
    throw err;
  });

const installedFiles = (paths: LabPaths) => {
  const dir = installedRulesDir(paths);
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.rules.yml')) : [];
};

export interface LoadedRules {
  files: string[];
  alerts: LoadedAlert[];
}

/**
 * `lab rules load`: every answer.rules.yml checked by promtool; if one is refused nothing changes
 * (the rules loaded before stay). Else they replace what was installed, and Prometheus reloads.
 */
export async function loadLearnerRules(paths: LabPaths, mode: Mode): Promise<LoadedRules> {
  const files = answerRulesFiles(paths);
  const refused: string[] = [];
  for (const file of files) {
    const problem = await checkRules(mode, file);
    if (problem) refused.push(`${file}: ${problem}`);
  }
  if (refused.length)
    throw new LabError(`promtool check rules refused your rules; nothing was loaded:\n${refused.join('\n')}`);
  const dir = installedRulesDir(paths);
  fs.mkdirSync(dir, { recursive: true });
  for (const old of installedFiles(paths)) fs.rmSync(path.join(dir, old));
  for (const file of files) {
    const installed = path.join(dir, `${path.basename(path.dirname(file))}.rules.yml`);
    fs.copyFileSync(file, installed);
    fs.chmodSync(installed, 0o644); // the Prometheus container reads it as another user
  }
  const reloadedAt = Date.now();
  await reloaded(paths, mode);
  return { files, alerts: await evaluatedSince(paths, mode, reloadedAt) };
}

/** The learner's alerts once Prometheus has evaluated each since `since` (a few seconds), else as they are. */
async function evaluatedSince(paths: LabPaths, mode: Mode, since: number): Promise<LoadedAlert[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const alerts = await loadedAlerts(paths, mode);
    if (alerts.every((a) => Date.parse(a.lastEvaluation) >= since) || Date.now() > deadline) return alerts;
    await sleep(500);
  }
}

/** Uninstalls the learner's rules (their files stay); reloads Prometheus when it runs. */
export async function unloadLearnerRules(paths: LabPaths, mode: Mode): Promise<string[]> {
  const removed = installedFiles(paths);
  for (const file of removed) fs.rmSync(path.join(installedRulesDir(paths), file));
  // A Prometheus that is not running reads none when it starts; one that runs must forget them now.
  if (removed.length)
    await reloadPrometheus(paths, mode).catch((err: unknown) => {
      if (!(err instanceof Unreachable)) throw err;
    });
  return removed;
}
