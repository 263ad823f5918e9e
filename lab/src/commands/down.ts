import { currentMode, type Mode } from '../mode';
import type { Progress, Report } from '../output';
import type { LabPaths } from '../paths';
import { compose } from '../runtime/docker';
import { backends, stopNative } from '../runtime/native';

export interface DownData {
  mode: Mode;
  stopped: string[];
}

export async function down(paths: LabPaths, progress: Progress): Promise<Report<DownData>> {
  const mode = currentMode(paths);
  let stopped: string[] = [];
  if (mode === 'docker') {
    compose(paths, ['down'], progress);
  } else {
    progress('stopping the supervisor and every component (traffic first, Prometheus last)');
    stopped = await stopNative(paths, progress);
    progress('stopping the backends the lab started itself (if any)');
    backends('stop', progress);
  }
  return {
    data: { mode, stopped },
    ok: true,
    sections: [
      { lines: [stopped.length || mode === 'docker' ? `The lab is down (${mode} mode).` : 'Nothing was running.'] },
    ],
  };
}
