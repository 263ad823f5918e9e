import { spawnSync } from 'node:child_process';
import { LabError } from '../errors';
import type { Progress } from '../output';
import { ROOT, type LabPaths } from '../paths';

/**
 * The full stack is docker-compose.yml's business; the lab only calls Compose with the generated
 * .env. (No Docker engine answers on the machine this was written on, so this path is untested
 * here.)
 */
export function compose(paths: LabPaths, args: string[], progress: Progress): void {
  progress(`    docker compose ${args.join(' ')}`);
  const result = spawnSync('docker', ['compose', '--env-file', paths.envFile, ...args], {
    cwd: ROOT,
    // The webhook writes into .lab/ (a bind mount this user owns): compose runs it as this user.
    env: { ...process.env, LAB_UID: String(process.getuid?.() ?? 1000), LAB_GID: String(process.getgid?.() ?? 1000) },
    stdio: ['ignore', 2, 2], // stdout stays the command's result
  });
  if (result.status !== 0) throw new LabError(`docker compose ${args.join(' ')} failed`);
}
