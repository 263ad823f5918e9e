import { bringDown, type DownData } from '../../core/actions/down';
import type { LabPaths } from '../../core/paths';
import type { Progress } from '../../core/progress';
import type { Report } from '../output';

export async function down(paths: LabPaths, progress: Progress): Promise<Report<DownData>> {
  const data = await bringDown(paths, progress);
  const { mode, stopped } = data;
  return {
    data,
    ok: true,
    sections: [
      { lines: [stopped.length || mode === 'full' ? `The lab is down (${mode} mode).` : 'Nothing was running.'] },
    ],
  };
}
