import { LabError, UsageError } from '../errors';
import { labFaultContext } from '../faults';
import { readLabFaults, runningVersion, writeLabFaults } from '../faults/lab-faults';
import type { Progress } from '../progress';
import type { LabPaths } from '../paths';

export interface RolledBack {
  instance: string;
  version?: string;
}

/**
 * Rolls one instance back to the release the lab plans for it (SERVICE_VERSION of its plan, 1.x),
 * as an operator rolls back a bad canary: the instance is redeployed without the release
 * overrides, through the lite-mode supervisor. A restart would not do it: the supervisor starts
 * the instance with whatever release it was last deployed as.
 */
export async function rollbackInstance(paths: LabPaths, name: string, progress: Progress): Promise<RolledBack> {
  const ctx = labFaultContext(paths);
  const instance = ctx.instances.find((i) => i.name === name);
  if (!instance)
    throw new UsageError(`unknown instance "${name}"; one of: ${ctx.instances.map((i) => i.name).join(', ')}`);
  if (!ctx.deploy) throw new LabError('lab rollback redeploys through the lite-mode supervisor: lite mode only');
  progress(`redeploying ${name} as its planned release (this takes a few seconds)`);
  await ctx.deploy(name, undefined);
  // The release deployed by a fault is no longer in force: `lab faults` must not list it.
  writeLabFaults(
    ctx,
    readLabFaults(ctx).filter((f) => !(f.name === 'bad-release' && f.target === name)),
  );
  return { instance: name, version: await runningVersion(instance.url) };
}
