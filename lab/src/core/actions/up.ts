import fs from 'node:fs';
import { ensureEnvFile, readEnv } from '../env-file';
import { LabError } from '../errors';
import { detectMode, type Mode } from '../mode';
import type { LabPaths } from '../paths';
import type { Progress } from '../progress';
import { compose } from '../runtime/docker';
import { installedRulesDir } from '../runtime/learner-rules';
import {
  backends,
  build,
  provision,
  staleProjects,
  startSupervisor,
  supervisorPid,
  waitHealthy,
  type Health,
} from '../runtime/lite';
import { labComponents } from '../runtime/stack';

export interface UpData {
  mode: Mode;
  alreadyRunning: boolean;
  seconds: number;
  components: Health[];
}

// The first start is the slow one: orders seeds 200,000 rows.
const HEALTH_DEADLINE_MS = 180_000;

/** Brings the lab up in `mode` (detected when not given) and waits until it is healthy. */
export async function bringUp(paths: LabPaths, options: { mode?: Mode }, progress: Progress): Promise<UpData> {
  const started = Date.now();
  const mode = options.mode ?? detectMode().mode;
  const step = (n: number, text: string) => progress(`[${n}/6] ${text}`);
  fs.mkdirSync(paths.state, { recursive: true });
  fs.writeFileSync(paths.mode, `${mode}\n`);

  step(1, ensureEnvFile(paths.envFile) ? '.env created with fresh secrets' : '.env exists: kept as it is');
  const env = readEnv(paths.envFile);
  let alreadyRunning = false;
  let components: Health[];
  if (mode === 'full') {
    step(2, 'docker compose up (builds images on the first run)');
    // Mounted at /etc/prometheus/learner: made here, or Docker would make it root's; empty at start.
    fs.rmSync(installedRulesDir(paths), { force: true, recursive: true });
    fs.mkdirSync(installedRulesDir(paths), { recursive: true });
    compose(paths, ['up', '-d', '--wait'], progress);
    components = [];
  } else {
    step(2, 'backends: MySQL, Redis, RabbitMQ');
    backends('ensure', progress);
    const list = labComponents(paths);
    const schemas = await provision(list, env.MYSQL_ADMIN_URL || 'mysql://root@127.0.0.1:3306');
    step(3, `schemas and users: ${schemas.join(', ')}`);
    const running = supervisorPid(paths);
    alreadyRunning = running !== undefined;
    if (running) {
      step(4, 'build: skipped, the lab is running');
      step(5, `supervisor already running (pid ${running})`);
    } else {
      const stale = staleProjects();
      step(4, stale.length ? `build: ${stale.join(', ')} (npx tsc -b)` : 'build: up to date');
      if (stale.length) build();
      step(5, `supervisor started (pid ${startSupervisor(paths, list)}), logs in ${paths.logs}`);
    }
    step(6, `waiting for ${list.length} components to be healthy`);
    components = await waitHealthy(list, HEALTH_DEADLINE_MS, progress);
  }
  const down = components.filter((c) => !c.healthy).map((c) => c.name);
  if (down.length)
    throw new LabError(
      `not healthy after ${HEALTH_DEADLINE_MS / 1000} s: ${down.join(', ')}; see ${paths.logs}/<name>.log`,
    );
  return { mode, alreadyRunning, seconds: Math.round((Date.now() - started) / 100) / 10, components };
}
