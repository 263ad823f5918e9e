import { rollbackInstance, type RolledBack } from '../../core/actions/rollback';
import type { LabPaths } from '../../core/paths';
import type { Progress } from '../../core/progress';
import type { Report } from '../output';

export async function rollback(paths: LabPaths, name: string, progress: Progress): Promise<Report<RolledBack>> {
  const done = await rollbackInstance(paths, name, progress);
  return {
    data: done,
    ok: true,
    sections: [{ lines: [`${name} rolled back: it runs ${done.version ?? 'an unknown version'} and is healthy.`] }],
  };
}
