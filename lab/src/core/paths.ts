import fs from 'node:fs';
import path from 'node:path';

/** The repository root: lab/dist/core (or lab/src/core under jest) is three levels below it. */
export const ROOT = path.resolve(__dirname, '..', '..', '..');

/**
 * Where one lab keeps its `.env` and its state (`.lab/`): the repository root, unless LAB_HOME
 * points elsewhere (the end-to-end test runs a lab "from nothing" in a temporary folder).
 */
export function labPaths(env: NodeJS.ProcessEnv = process.env) {
  const home = env.LAB_HOME ? path.resolve(env.LAB_HOME) : ROOT;
  const state = path.join(home, '.lab');
  return {
    home,
    envFile: path.join(home, '.env'),
    state,
    logs: path.join(state, 'logs'),
    pids: path.join(state, 'pids'),
    supervisorPid: path.join(state, 'supervisor.pid'),
    plan: path.join(state, 'plan.json'),
    overrides: path.join(state, 'overrides.json'),
    faults: path.join(state, 'faults.json'),
    exercises: path.join(state, 'exercises.json'),
    mode: path.join(state, 'mode'),
    pages: path.join(state, 'pages.jsonl'),
    store: path.join(state, 'store'), // the telemetry store's SQLite files (lite mode)
    prometheus: path.join(state, 'prometheus'),
    alertmanager: path.join(state, 'alertmanager'),
  };
}

export type LabPaths = ReturnType<typeof labPaths>;

/** The npm workspaces package.json lists: what `tsc -b` builds, and whose manifests the image installs. */
export function workspaces(root = ROOT): string[] {
  return (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
}
