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
import { LabError } from '../errors';
import { exerciseUnderWay, type UnderWay } from '../exercise-state';
import type { LabPaths } from '../paths';
import type { Progress } from '../progress';

/**
 * What a learner may do to the lab during an exercise: what an on-call engineer could do. The
 * fault control plane is for free exploration; during an exercise it neither shows nor undoes
 * that exercise's faults, so a pass means the signals were read and a real fix was made. The
 * exercise runner injects and clears through core/faults directly, not through these actions.
 */
export const OPERATOR_ACTIONS = [
  'lab restart <instance>',
  'lab rollback <instance>',
  'lab config set <service> KEY=VALUE',
  'lab sql <service> "<statement>"',
  'lab redis <command>',
  'lab dlq purge|replay <queue>',
  'lab rules load',
];

function closedDuringExercise(paths: LabPaths, what: string): void {
  const run = exerciseUnderWay(paths.exercises);
  if (!run) return;
  throw new LabError(
    `exercise ${run.id} is under way: the fault control plane does not ${what} while it runs. ` +
      `Fix what the signals show with an operator action: ${OPERATOR_ACTIONS.join(', ')}. ` +
      '`lab reset` ends the exercise (that is no fix: the attempt is over).',
  );
}

/** The fault control plane of the lab in `paths`: what `lab fault`, `lab faults` and `lab reset` do. */
export async function injectLabFault(paths: LabPaths, request: InjectRequest, progress: Progress): Promise<Injected> {
  checkFault(request.name, request.options); // before anything is read or sent
  closedDuringExercise(paths, 'inject faults');
  const ctx = labFaultContext(paths);
  if (request.name === 'bad-release') progress('restarting one instance as release 2.0.0 (this takes a few seconds)');
  return injectFault(ctx, request);
}

export async function clearLabFaults(paths: LabPaths, request: { name?: string; instance?: string }): Promise<Cleared> {
  closedDuringExercise(paths, "clear an exercise's faults");
  return clearFaults(labFaultContext(paths), request);
}

export interface ActiveFaults {
  faults: ActiveEntry[];
  unreachable: string[];
  /** During an exercise: which one, and how many faults its start left that the list does not show. */
  hidden?: UnderWay;
}

export async function activeLabFaults(paths: LabPaths): Promise<ActiveFaults> {
  const hidden = exerciseUnderWay(paths.exercises);
  if (hidden) return { faults: [], unreachable: [], hidden };
  return activeFaults(labFaultContext(paths));
}

export interface LabReset extends ResetResult {
  /** The exercise the reset ended: what it cleared of it is left out (a start's seed can be given again). */
  ended?: UnderWay;
}

export async function resetLabAt(paths: LabPaths, progress: Progress): Promise<LabReset> {
  const ended = exerciseUnderWay(paths.exercises);
  progress('clearing every fault, restoring the index, releases, config, traffic and dead-letter queues');
  const result = await resetLab(labFaultContext(paths));
  return ended ? { ...result, cleared: [], ended } : result;
}
