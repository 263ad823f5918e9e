import path from 'node:path';
import { LabError, UsageError } from '../errors';
import { isHealthy, sleep } from '../http';
import { currentMode } from '../mode';
import type { Progress } from '../progress';
import type { LabPaths } from '../paths';
import { compose } from '../runtime/docker';
import { readPid, signal } from '../runtime/processes';
import { labComponents } from '../runtime/stack';

/**
 * Restarts one instance, as an operator would: in lite mode its process is stopped and the
 * supervisor starts a fresh one; in Docker, `docker compose restart`. What the process held in
 * memory (a fault switched on at runtime, a leak) is gone; what it stores elsewhere is not.
 */
export async function restartInstance(paths: LabPaths, name: string, progress: Progress, timeoutMs = 60_000) {
  const services = labComponents(paths).filter((c) => c.kind === 'service');
  const component = services.find((c) => c.name === name);
  if (!component) throw new UsageError(`unknown instance "${name}"; one of: ${services.map((c) => c.name).join(', ')}`);
  if (currentMode(paths) === 'full') return compose(paths, ['restart', name], progress);
  const pidFile = path.join(paths.pids, `${name}.pid`);
  const before = readPid(pidFile);
  if (!before) throw new LabError(`${name} is not running (no pid in ${pidFile}): is the lab up?`);
  progress(`stopping ${name} (pid ${before}); the supervisor starts it again`);
  signal(before, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const now = readPid(pidFile);
    if (now && now !== before && (await isHealthy(component.health))) return;
    if (Date.now() > deadline) throw new LabError(`${name} was not back and healthy within ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}
