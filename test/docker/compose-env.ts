import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/**
 * docker-compose.yml as Compose reads it (merge keys resolved, `${VAR}` interpolated from an env
 * file), and the one translation a run without Docker needs: container addresses to this
 * machine's. Every service of our image gets its container port moved into the test's range
 * (6000 + port % 1000), the backends (mysql, redis, rabbitmq) are this machine's on their usual
 * ports, and paths inside the container are paths inside the assembled image tree.
 */
export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  user?: string;
  volumes?: string[];
  network_mode?: string;
  depends_on?: Record<string, { condition: string }>;
}

export function loadCompose(root: string): Record<string, ComposeService> {
  const text = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
  return (parse(text, { merge: true }) as { services: Record<string, ComposeService> }).services;
}

/** Compose's interpolation: `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `$$`. */
export function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (match, name, op, arg) => {
    if (match === '$$') return '$';
    const set = env[name];
    const missing = op?.startsWith(':') ? !set : set === undefined;
    if (op?.endsWith('-')) return missing ? arg : (set ?? '');
    if (op?.endsWith('?') && missing) throw new Error(`${name}: ${arg}`);
    return set ?? '';
  });
}

export const BACKENDS = ['mysql', 'redis', 'rabbitmq'];
/** Where a container port of ours listens here: inside 6080-6999, the image test's range. */
export const hostPort = (port: number) => 6000 + (port % 1000);

export interface Translation {
  /** Services of our image and the ports their containers listen on; the collector's too. */
  containerPorts: Map<string, number[]>;
  /** A bind-mounted container path and the directory standing in for it. */
  mounts: Array<[string, string]>;
  /** The assembled image's root. */
  imageRoot: string;
}

/** One environment value, as the process started from the image tree must see it here. */
export function translate(value: string, t: Translation): string {
  const ours = new Set([...t.containerPorts.values()].flat());
  let out = value.replace(/\b([a-z][a-z0-9-]*|127\.0\.0\.1|localhost):(\d{2,5})\b/g, (match, host, port) => {
    const number = Number(port);
    if (BACKENDS.includes(host)) return `127.0.0.1:${port}`;
    const known = t.containerPorts.has(host) || host === '127.0.0.1' || host === 'localhost';
    return known && ours.has(number) ? `127.0.0.1:${hostPort(number)}` : match;
  });
  if (out.startsWith('/')) {
    const mount = t.mounts.find(([container]) => out === container || out.startsWith(`${container}/`));
    out = mount ? mount[1] + out.slice(mount[0].length) : path.join(t.imageRoot, out);
  }
  return out;
}
