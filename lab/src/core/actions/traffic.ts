import { LabError, UsageError } from '../errors';
import { exerciseUnderWay } from '../exercise-state';
import { getJson, postJson, Unreachable } from '../http';
import { currentMode } from '../mode';
import type { LabPaths } from '../paths';
import { endpoint } from '../runtime/stack';

export type TrafficAction = { running: boolean } | { rate: number };

/** Parses `start`, `stop` or `rate <N>` into the body of the generator's POST /control. */
export function trafficAction(action: string, value?: string): TrafficAction {
  if (action === 'start') return { running: true };
  if (action === 'stop') return { running: false };
  if (action === 'rate') {
    const rate = Number(value);
    if (value === undefined || !Number.isFinite(rate) || rate < 0)
      throw new UsageError('`lab traffic rate <N>` needs a number of requests per second (0 or more)');
    return { rate };
  }
  throw new UsageError(`unknown traffic action "${action}": start, stop or rate <N>`);
}

/** Sends the action to the traffic generator and answers its state after it. */
export async function controlTraffic(paths: LabPaths, action: TrafficAction): Promise<Record<string, unknown>> {
  const { url } = endpoint(currentMode(paths), paths, 'traffic');
  try {
    await postJson(`${url}/control`, action);
    const state = await getJson<Record<string, unknown>>(`${url}/status`);
    if (!exerciseUnderWay(paths.exercises)) return state;
    // The profile and the noisy client's key are what the noisy-client fault changes: an answer.
    return Object.fromEntries(Object.entries(state).filter(([key]) => !['profile', 'noisyApiKey'].includes(key)));
  } catch (err) {
    if (err instanceof Unreachable)
      throw new LabError(`the traffic generator does not answer at ${url}: is the lab up? (lab status)`);
    throw err;
  }
}
