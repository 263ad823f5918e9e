import { currentMode, type Mode } from '../mode';
import type { LabPaths } from '../paths';
import type { Progress } from '../progress';
import { compose } from '../runtime/docker';
import { backends, stopLite } from '../runtime/lite';

export interface DownData {
  mode: Mode;
  stopped: string[];
}

/** Stops every lab process, and in lite mode the backends the lab started itself. */
export async function bringDown(paths: LabPaths, progress: Progress): Promise<DownData> {
  const mode = currentMode(paths);
  if (mode === 'full') {
    compose(paths, ['down'], progress);
    return { mode, stopped: [] };
  }
  progress('stopping the supervisor and every component (traffic first, Prometheus last)');
  const stopped = await stopLite(paths, progress);
  progress('stopping the backends the lab started itself (if any)');
  backends('stop', progress);
  return { mode, stopped };
}
