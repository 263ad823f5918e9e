import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { UsageError } from './errors';
import type { LabPaths } from './paths';

export type Mode = 'docker' | 'native';
export const MODES: Mode[] = ['docker', 'native'];

/** LAB_MODE wins; otherwise Docker when a Docker engine answers, and lite (native) mode when not. */
export function detectMode(env: NodeJS.ProcessEnv = process.env, docker = 'docker'): { mode: Mode; reason: string } {
  const forced = env.LAB_MODE;
  if (forced) {
    if (!MODES.includes(forced as Mode)) throw new UsageError(`LAB_MODE must be docker or native, not "${forced}"`);
    return { mode: forced as Mode, reason: 'LAB_MODE' };
  }
  // `docker info` fails when the client is missing (ENOENT) or no engine answers the socket.
  const info = spawnSync(docker, ['info'], { stdio: 'ignore', timeout: 10_000 });
  return info.status === 0
    ? { mode: 'docker', reason: 'a Docker engine answers' }
    : { mode: 'native', reason: 'no Docker engine answers' };
}

/** The mode `lab up` used (kept in .lab/mode), else what it would pick now. */
export function currentMode(paths: LabPaths, env: NodeJS.ProcessEnv = process.env): Mode {
  if (env.LAB_MODE) return detectMode(env).mode;
  const recorded = fs.existsSync(paths.mode) ? fs.readFileSync(paths.mode, 'utf8').trim() : '';
  return MODES.includes(recorded as Mode) ? (recorded as Mode) : detectMode(env).mode;
}
