import { LabError, UsageError } from '../errors';
import { getJson, postJson, Unreachable } from '../http';
import type { Report } from '../output';
import type { LabPaths } from '../paths';
import { currentMode } from '../mode';
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

export async function traffic(paths: LabPaths, action: TrafficAction): Promise<Report<Record<string, unknown>>> {
  const { url } = endpoint(currentMode(paths), paths, 'traffic');
  let state: Record<string, unknown>;
  try {
    await postJson(`${url}/control`, action);
    state = await getJson<Record<string, unknown>>(`${url}/status`);
  } catch (err) {
    if (err instanceof Unreachable)
      throw new LabError(`the traffic generator does not answer at ${url}: is the lab up? (lab status)`);
    throw err;
  }
  return {
    data: state,
    ok: true,
    sections: [
      { table: { head: ['TRAFFIC', 'VALUE'], rows: Object.entries(state).map(([k, v]) => [k, JSON.stringify(v)]) } },
    ],
  };
}
