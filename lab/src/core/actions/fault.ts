import {
  activeFaults,
  checkFault,
  clearFaults,
  injectFault,
  labFaultContext,
  resetLab,
  type ActiveEntry,
  type Cleared,
  type InjectRequest,
  type Injected,
  type ResetResult,
} from '../faults';
import type { LabPaths } from '../paths';
import type { Progress } from '../progress';

/** The fault control plane of the lab in `paths`: what `lab fault`, `lab faults` and `lab reset` do. */
export async function injectLabFault(paths: LabPaths, request: InjectRequest, progress: Progress): Promise<Injected> {
  checkFault(request.name, request.options); // before anything is read or sent
  const ctx = labFaultContext(paths);
  if (request.name === 'bad-release') progress('restarting one instance as release 2.0.0 (this takes a few seconds)');
  return injectFault(ctx, request);
}

export const clearLabFaults = (paths: LabPaths, request: { name?: string; instance?: string }): Promise<Cleared> =>
  clearFaults(labFaultContext(paths), request);

export const activeLabFaults = (paths: LabPaths): Promise<{ faults: ActiveEntry[]; unreachable: string[] }> =>
  activeFaults(labFaultContext(paths));

export async function resetLabAt(paths: LabPaths, progress: Progress): Promise<ResetResult> {
  progress('clearing every fault, restoring the index, releases, traffic and dead-letter queues');
  return resetLab(labFaultContext(paths));
}
