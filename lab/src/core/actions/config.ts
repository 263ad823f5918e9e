import fs from 'node:fs';
import { documentedSettings, EXAMPLE, readEnv } from '../env-file';
import { LabError, UsageError } from '../errors';
import { currentMode } from '../mode';
import type { LabPaths } from '../paths';
import type { Progress } from '../progress';
import { currentOverrides, redeploy } from '../runtime/lite';
import { labComponents } from '../runtime/stack';
import type { Component } from '../topology';

/**
 * `lab config set|show`: a service's configuration, kept in the environment (factor 3 of the
 * twelve) and changed the way a platform changes it: a redeploy of every instance of the service
 * with the new values, one instance at a time. Only the settings the service documents in
 * .env.example are accepted. The values live in the supervisor's overrides (layer `config`), so
 * they survive restarts and rollbacks; `lab reset` deploys every instance as planned again.
 */
export interface Setting {
  key: string;
  description: string;
  value: string;
  /** Where the value comes from: the documented default, .env, or `lab config set`. */
  source: 'default' | '.env' | 'lab config set';
}

export interface ServiceConfig {
  service: string;
  instances: string[];
  settings: Setting[];
}

function instancesOf(paths: LabPaths, service: string): Component[] {
  const services = labComponents(paths).filter((c) => c.kind === 'service');
  const found = services.filter((c) => c.job === service);
  if (!found.length)
    throw new UsageError(
      `unknown service "${service}"; one of: ${[...new Set(services.map((c) => c.job))].join(', ')}`,
    );
  return found;
}

function settingsOf(service: string, example: string) {
  const documented = documentedSettings(fs.readFileSync(example, 'utf8'));
  return [...(documented[service] ?? []), ...(documented['every service'] ?? [])];
}

export function showConfig(paths: LabPaths, service: string, example = EXAMPLE): ServiceConfig {
  const instances = instancesOf(paths, service);
  const env = fs.existsSync(paths.envFile) ? readEnv(paths.envFile) : {};
  const set = currentOverrides(paths)[instances[0].name]?.config ?? {};
  return {
    service,
    instances: instances.map((c) => c.name),
    settings: settingsOf(service, example).map(({ key, description, default: fallback }) => {
      if (set[key] !== undefined) return { key, description, value: set[key], source: 'lab config set' as const };
      if (env[key]) return { key, description, value: env[key], source: '.env' as const };
      return { key, description, value: fallback, source: 'default' as const };
    }),
  };
}

/** `KEY=VALUE` pairs, each a setting the service documents; a UsageError names the allowed keys. */
export function parseSettings(service: string, pairs: string[], example = EXAMPLE): Record<string, string> {
  const allowed = settingsOf(service, example).map((s) => s.key);
  const values: Record<string, string> = {};
  for (const pair of pairs) {
    const match = /^([A-Z][A-Z0-9_]*)=(\S.*)$/.exec(pair);
    if (!match) throw new UsageError(`settings are KEY=VALUE with a value, not "${pair}"`);
    if (!allowed.includes(match[1]))
      throw new UsageError(
        allowed.length
          ? `${service} does not document ${match[1]} in .env.example; it takes: ${allowed.join(', ')}`
          : `${service} documents no setting in .env.example: there is nothing to set`,
      );
    values[match[1]] = match[2];
  }
  return values;
}

export async function setConfig(
  paths: LabPaths,
  service: string,
  pairs: string[],
  progress: Progress,
  example = EXAMPLE,
): Promise<ServiceConfig> {
  const instances = instancesOf(paths, service);
  const values = parseSettings(service, pairs, example);
  if (currentMode(paths) === 'full')
    throw new LabError(
      'lab config set redeploys through the lite-mode supervisor: lite mode only (in the full stack, set it in .env and `docker compose up -d <service>`)',
    );
  const config = { ...currentOverrides(paths)[instances[0].name]?.config, ...values };
  for (const instance of instances) {
    progress(`redeploying ${instance.name} with ${Object.keys(values).join(', ')}`);
    await redeploy(paths, instance, 'config', config);
  }
  return showConfig(paths, service, example);
}
