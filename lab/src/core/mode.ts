import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { UsageError } from './errors';
import type { LabPaths } from './paths';

/** `full`: the Docker stack (Grafana, Jaeger, Loki); `lite`: supervised Node processes (the lab's own stand-ins). */
export type Mode = 'full' | 'lite';
export const MODES: Mode[] = ['full', 'lite'];

// The words of the first versions, still accepted where a person types a mode (LAB_MODE, --mode).
const ALIASES: Record<string, Mode> = { full: 'full', lite: 'lite', docker: 'full', native: 'lite' };

/** A mode as typed: full or lite, or docker or native for them; undefined when it is none of these. */
export const modeOf = (text: string): Mode | undefined => ALIASES[text.trim().toLowerCase()];

export function parseMode(text: string, from = 'the mode'): Mode {
  const mode = modeOf(text);
  if (!mode) throw new UsageError(`${from} must be full or lite (or docker or native), not "${text}"`);
  return mode;
}

/** LAB_MODE wins; otherwise the full stack when a Docker engine answers, and lite mode when not. */
export function detectMode(env: NodeJS.ProcessEnv = process.env, docker = 'docker'): { mode: Mode; reason: string } {
  if (env.LAB_MODE) return { mode: parseMode(env.LAB_MODE, 'LAB_MODE'), reason: 'LAB_MODE' };
  // `docker info` fails when the client is missing (ENOENT) or no engine answers the socket.
  const info = spawnSync(docker, ['info'], { stdio: 'ignore', timeout: 10_000 });
  return info.status === 0
    ? { mode: 'full', reason: 'a Docker engine answers' }
    : { mode: 'lite', reason: 'no Docker engine answers' };
}

/** The mode `lab up` used (kept in .lab/mode), else what it would pick now. */
export function currentMode(paths: LabPaths, env: NodeJS.ProcessEnv = process.env): Mode {
  if (env.LAB_MODE) return detectMode(env).mode;
  const recorded = fs.existsSync(paths.mode) ? modeOf(fs.readFileSync(paths.mode, 'utf8')) : undefined;
  return recorded ?? detectMode(env).mode;
}
