import { readEnv } from '../env-file';
import type { Mode } from '../mode';
import type { LabPaths } from '../paths';
import { components, withAvailableTraffic, type Component } from '../topology';
import fs from 'node:fs';

export interface Endpoint {
  name: string;
  url: string;
  health: string;
}

/** What Docker adds to the lite-mode components, published on the same 127.0.0.1 ports. */
const DOCKER_ONLY: Endpoint[] = [
  { name: 'grafana', url: 'http://127.0.0.1:3000', health: 'http://127.0.0.1:3000/api/health' },
  { name: 'jaeger', url: 'http://127.0.0.1:16686', health: 'http://127.0.0.1:16686/' },
  { name: 'loki', url: 'http://127.0.0.1:3100', health: 'http://127.0.0.1:3100/ready' },
];

/** What lite mode cannot run, and what to use instead. */
export const UNAVAILABLE_IN_LITE_MODE = [
  { name: 'grafana', instead: 'the Prometheus UI (http://127.0.0.1:9090): graphs, and exemplars on histograms' },
  { name: 'jaeger', instead: 'trace-correlated JSON logs in .lab/logs/: `lab logs <service> --trace <trace_id>`' },
  { name: 'loki', instead: 'the JSON logs in .lab/logs/<instance>.log: `lab logs <service> [--grep <text>]`' },
];

/** The lite-mode components, from .env (or from .env.example's defaults before the first `lab up`). */
export function nativeComponents(paths: LabPaths): Component[] {
  const env = fs.existsSync(paths.envFile) ? readEnv(paths.envFile) : {};
  return withAvailableTraffic(components({ paths, env }));
}

/** One named endpoint of the running lab. */
export function endpoint(mode: Mode, paths: LabPaths, name: string): Endpoint {
  const found = endpoints(mode, paths).find((e) => e.name === name);
  if (!found) throw new Error(`the lab has no component named ${name}`);
  return found;
}

export function endpoints(mode: Mode, paths: LabPaths): Endpoint[] {
  const own = nativeComponents(paths).map(({ name, url, health }) => ({ name, url, health }));
  return mode === 'docker' ? [...own, ...DOCKER_ONLY] : own;
}
