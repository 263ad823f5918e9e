import { controlTraffic, type TrafficAction } from '../../core/actions/traffic';
import type { LabPaths } from '../../core/paths';
import type { Report } from '../output';

export async function traffic(paths: LabPaths, action: TrafficAction): Promise<Report<Record<string, unknown>>> {
  const state = await controlTraffic(paths, action);
  return {
    data: state,
    ok: true,
    sections: [
      { table: { head: ['TRAFFIC', 'VALUE'], rows: Object.entries(state).map(([k, v]) => [k, JSON.stringify(v)]) } },
    ],
  };
}
