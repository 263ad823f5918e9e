import { readLogs, type LogLine, type LogsOptions } from '../../core/actions/logs';
import type { LabPaths } from '../../core/paths';
import type { Report } from '../output';

/** `lab logs`: the matching lines, one a line for a person, the records themselves as JSON. */
export function logs(
  paths: LabPaths,
  service: string | undefined,
  options: LogsOptions,
): Report<{ service: string; lines: LogLine[] }> {
  const { service: which, instances, lines } = readLogs(paths, service, options);
  return {
    data: { service: which, lines },
    ok: true,
    sections: [
      {
        lines: lines.length
          ? lines.map(human)
          : [`No matching line in ${instances.map((i) => `${i}.log`).join(', ')}.`],
      },
    ],
  };
}

function human(line: LogLine): string {
  if (!line.record) return `${line.instance}  ${line.text}`;
  const { timestamp, level, message } = line.record;
  const rest = Object.fromEntries(
    Object.entries(line.record).filter(([key]) => !['timestamp', 'level', 'message', 'service'].includes(key)),
  );
  const extra = Object.keys(rest).length ? `  ${JSON.stringify(rest)}` : '';
  return `${String(timestamp ?? '')}  ${line.instance}  ${String(level ?? '')}  ${String(message ?? '')}${extra}`;
}
