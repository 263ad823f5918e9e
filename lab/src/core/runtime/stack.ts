import { readEnv } from '../env-file';
import { UsageError } from '../errors';
import type { Mode } from '../mode';
import type { LabPaths } from '../paths';
import { components, STORE, type Component } from '../topology';
import fs from 'node:fs';

export interface Endpoint {
  name: string;
  url: string;
  health: string;
}

/** What the full stack adds to the lab's own components, published on the same 127.0.0.1 ports. */
const FULL_ONLY: Endpoint[] = [
  { name: 'grafana', url: 'http://127.0.0.1:3000', health: 'http://127.0.0.1:3000/api/health' },
  { name: 'jaeger', url: 'http://127.0.0.1:16686', health: 'http://127.0.0.1:16686/' },
  { name: 'loki', url: 'http://127.0.0.1:3100', health: 'http://127.0.0.1:3100/ready' },
];

/** What lite mode cannot run, and what to use instead. */
export const UNAVAILABLE_IN_LITE_MODE = [
  { name: 'grafana', instead: 'the Prometheus UI (http://127.0.0.1:9090): graphs, and exemplars on histograms' },
  {
    name: 'jaeger',
    instead: "the lab's telemetry store (lab-store), which answers Jaeger's API: `lab traces`, `lab traces <trace_id>`",
  },
  { name: 'loki', instead: 'the JSON logs in .lab/logs/<instance>.log: `lab logs <service> [--grep <text>]`' },
];

/**
 * The lab's own components (every process lite mode runs; the full stack publishes the services,
 * Prometheus, Alertmanager and the webhook on the same ports), from .env (or from .env.example's defaults before the first `lab up`).
 * LAB_BASE_PORT moves every port (18080 puts Prometheus on 19090) and LAB_SCHEMA_PREFIX gives the
 * lab schemas and users of its own, so that a second lab (a test) can run beside the first.
 */
export function labComponents(paths: LabPaths, shell: NodeJS.ProcessEnv = process.env): Component[] {
  const env = fs.existsSync(paths.envFile) ? readEnv(paths.envFile) : {};
  const basePort = shell.LAB_BASE_PORT ? Number(shell.LAB_BASE_PORT) : undefined;
  if (basePort !== undefined && !(Number.isInteger(basePort) && basePort >= 1024 && basePort <= 64_000))
    throw new UsageError(`LAB_BASE_PORT must be a port between 1024 and 64000, not "${shell.LAB_BASE_PORT}"`);
  const schemaPrefix = shell.LAB_SCHEMA_PREFIX ?? '';
  if (!/^[a-z0-9_]*$/.test(schemaPrefix))
    throw new UsageError(`LAB_SCHEMA_PREFIX may hold only a-z, 0-9 and _, not "${schemaPrefix}"`);
  return components({ paths, env, basePort, schemaPrefix });
}

/** One named endpoint of the running lab. */
export function endpoint(mode: Mode, paths: LabPaths, name: string): Endpoint {
  const found = endpoints(mode, paths).find((e) => e.name === name);
  if (!found) throw new Error(`the lab has no component named ${name}`);
  return found;
}

export function endpoints(mode: Mode, paths: LabPaths): Endpoint[] {
  // The full stack has no telemetry store: its collector, Jaeger and Loki do that job.
  const own = labComponents(paths)
    .filter((c) => mode === 'lite' || c.kind !== 'store')
    .map(({ name, url, health }) => ({ name, url, health }));
  return mode === 'full' ? [...own, ...FULL_ONLY] : own;
}

/** Where the Jaeger query API answers: the real Jaeger in the full stack, the lab's store in lite mode. */
export const tracesEndpoint = (mode: Mode, paths: LabPaths): Endpoint =>
  endpoint(mode, paths, mode === 'full' ? 'jaeger' : STORE.name);
