import fs from 'node:fs';
import path from 'node:path';

/** Whether a process with this pid exists (signal 0 checks without signalling). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readPid(file: string): number | undefined {
  if (!fs.existsSync(file)) return undefined;
  const pid = Number(fs.readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Every pid file in a folder: name -> pid. */
export function readPids(dir: string): Map<string, number> {
  const pids = new Map<string, number>();
  if (!fs.existsSync(dir)) return pids;
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.pid'))) {
    const pid = readPid(path.join(dir, file));
    if (pid) pids.set(file.slice(0, -'.pid'.length), pid);
  }
  return pids;
}

export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone: that is what we wanted.
  }
}
