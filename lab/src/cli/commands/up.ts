import { bringUp, type UpData } from '../../core/actions/up';
import type { Mode } from '../../core/mode';
import type { LabPaths } from '../../core/paths';
import type { Progress } from '../../core/progress';
import type { Report } from '../output';
import { componentsTable } from './status';

export async function up(paths: LabPaths, options: { mode?: Mode }, progress: Progress): Promise<Report<UpData>> {
  const data = await bringUp(paths, options, progress);
  return {
    data,
    ok: true,
    sections: [
      ...(data.mode === 'lite' ? [componentsTable(data.components)] : []),
      {
        lines: [
          `The lab is up (${data.mode} mode, ${data.seconds} s). \`lab status\` shows it again; \`lab down\` stops it.`,
        ],
      },
    ],
  };
}
