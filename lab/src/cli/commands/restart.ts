import type { LabPaths } from '../../core/paths';
import type { Progress } from '../../core/progress';
import { restartInstance } from '../../core/actions/restart';
import type { Report } from '../output';

export async function restart(
  paths: LabPaths,
  name: string,
  progress: Progress,
): Promise<Report<{ restarted: string }>> {
  await restartInstance(paths, name, progress);
  return { data: { restarted: name }, ok: true, sections: [{ lines: [`${name} restarted and healthy.`] }] };
}
