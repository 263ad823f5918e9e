import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors';
import type { LabPaths } from '../paths';
import { labComponents } from '../runtime/stack';

export interface LogLine {
  instance: string;
  timestamp?: string;
  record?: Record<string, unknown>; // the JSON line, when it is one
  text: string;
}

export interface LogsOptions {
  trace?: string;
  grep?: string;
  tail: number;
}

/**
 * `catalog` means both replicas' files; an instance name (`catalog-2`) means that one; no service
 * means every service, which is how one request is followed across the shop (`--trace`).
 */
function instancesOf(paths: LabPaths, service: string | undefined): string[] {
  if (service === undefined)
    return labComponents(paths)
      .filter((c) => c.kind === 'service')
      .map((c) => c.name);
  const names = [
    ...labComponents(paths).map((c) => ({ name: c.name, job: c.job })),
    { name: 'supervisor', job: 'supervisor' },
  ];
  const matching = names.filter((c) => c.name === service || c.job === service).map((c) => c.name);
  if (!matching.length)
    throw new UsageError(
      `unknown service "${service}"; one of: ${[...new Set(names.flatMap((c) => [c.job, c.name]))].join(', ')}`,
    );
  return matching;
}

function readLines(file: string, instance: string): LogLine[] {
  if (!fs.existsSync(file)) return [];
  let last: string | undefined; // a stack trace or a non-JSON line sorts after the line before it
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((text) => {
      let record: Record<string, unknown> | undefined;
      try {
        const parsed: unknown = JSON.parse(text);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) record = parsed as Record<string, unknown>;
      } catch {
        record = undefined;
      }
      const stamp = record?.timestamp ?? record?.time;
      if (typeof stamp === 'string') last = stamp;
      return { instance, timestamp: last, record, text };
    });
}

/**
 * Reads .lab/logs/<instance>.log (JSON lines, as every service writes them) and filters them;
 * answers the instances it read too, to say where nothing matched.
 */
export function readLogs(
  paths: LabPaths,
  service: string | undefined,
  options: LogsOptions,
): { service: string; instances: string[]; lines: LogLine[] } {
  const instances = instancesOf(paths, service);
  const all = instances
    .flatMap((instance) => readLines(path.join(paths.logs, `${instance}.log`), instance))
    .filter((line) => !options.trace || line.record?.trace_id === options.trace)
    .filter((line) => !options.grep || line.text.includes(options.grep));
  if (instances.length > 1) all.sort((a, b) => (a.timestamp ?? '').localeCompare(b.timestamp ?? ''));
  return { service: service ?? 'all', instances, lines: all.slice(-options.tail) };
}
