import {
  activeLabFaults,
  clearLabFaults,
  injectLabFault,
  resetLabAt,
  type ActiveFaults,
  type LabReset,
} from '../../core/actions/fault';
import type { UnderWay } from '../../core/exercise-state';
import { UsageError } from '../../core/errors';
import { listFaults, type ActiveEntry, type Cleared, type FaultInfo, type Injected } from '../../core/faults';
import type { LabPaths } from '../../core/paths';
import type { Progress } from '../../core/progress';
import type { Report } from '../output';

/** `--set key=value`, repeatable; numbers and booleans are read as such, anything else stays text. */
export function parseSetting(pair: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const match = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(pair);
  if (!match) throw new UsageError(`--set expects key=value, not "${pair}"`);
  const [, key, text] = match;
  const value = text === 'true' ? true : text === 'false' ? false : /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
  return { ...previous, [key]: value };
}

const optionsText = (options: Record<string, unknown>) =>
  Object.entries(options)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ') || '-';

export function faultList(): Report<{ faults: FaultInfo[] }> {
  const faults = listFaults();
  // `ms=500 pathPrefix share=1`: an option without a default is named alone.
  const defaults = (fault: FaultInfo) =>
    Object.entries(fault.options)
      .map(([key, schema]) => (schema.default === undefined ? key : `${key}=${JSON.stringify(schema.default)}`))
      .join(' ') || '-';
  return {
    data: { faults },
    ok: true,
    sections: [
      {
        table: {
          head: ['FAULT', 'WHERE', 'SERVICES', 'OPTIONS (defaults)', 'WHAT IT DOES'],
          rows: faults.map((f) => [
            f.name,
            f.where,
            f.services === 'any' ? 'any' : f.services.join(','),
            defaults(f),
            f.description,
          ]),
        },
      },
      { lines: ['Inject one with `lab fault inject <name> [--service S] [--instance I] [--set key=value ...]`.'] },
    ],
  };
}

export async function faultInject(
  paths: LabPaths,
  name: string,
  options: { service?: string; instance?: string; set: Record<string, unknown> },
  progress: Progress,
): Promise<Report<Injected>> {
  const injected = await injectLabFault(
    paths,
    { name, service: options.service, instance: options.instance, options: options.set },
    progress,
  );
  const where = injected.instances.length ? ` on ${injected.instances.join(', ')}` : '';
  return {
    data: injected,
    ok: true,
    sections: [{ lines: [`${injected.name} injected${where} (${optionsText(injected.options)}).`] }],
  };
}

function activeTable(faults: ActiveEntry[]) {
  return {
    table: {
      head: ['FAULT', 'WHERE', 'INSTANCE', 'OPTIONS', 'SINCE'],
      rows: faults.map((f) => [
        { text: f.name, tone: 'bad' as const },
        f.where,
        f.instance ?? '-',
        optionsText(f.options),
        f.since,
      ]),
    },
  };
}

const unreachableLines = (names: string[]) =>
  names.length ? [`Did not answer (a restarted instance has no faults): ${names.join(', ')}`] : [];

export async function faultClear(
  paths: LabPaths,
  name: string | undefined,
  options: { instance?: string },
): Promise<Report<Cleared>> {
  const result = await clearLabFaults(paths, { name, instance: options.instance });
  return {
    data: result,
    ok: true,
    sections: [
      result.cleared.length
        ? { title: 'Cleared', ...activeTable(result.cleared) }
        : { lines: ['No such fault was active.'] },
      { lines: unreachableLines(result.unreachable) },
    ],
  };
}

/** `lab faults` and `lab status` say it the same way. */
export const hiddenLine = ({ id, hiddenFaults }: UnderWay) =>
  `Exercise ${id} is under way: ${hiddenFaults === 1 ? '1 fault is' : `${hiddenFaults} faults are`} hidden from the ` +
  'fault control plane until it ends. Find it from the signals; `lab reset` ends the exercise.';

export async function faultsActive(paths: LabPaths): Promise<Report<ActiveFaults>> {
  const result = await activeLabFaults(paths);
  return {
    data: result,
    ok: result.unreachable.length === 0,
    sections: [
      result.hidden
        ? { lines: [hiddenLine(result.hidden)] }
        : result.faults.length
          ? activeTable(result.faults)
          : { lines: ['No fault is active.'] },
      { lines: unreachableLines(result.unreachable) },
    ],
  };
}

export async function reset(paths: LabPaths, progress: Progress): Promise<Report<LabReset>> {
  const result = await resetLabAt(paths, progress);
  const purged = Object.entries(result.purged).map(([queue, n]) => `${queue}: ${n} purged`);
  return {
    data: result,
    ok: true,
    sections: [
      ...(result.cleared.length ? [{ title: 'Cleared', ...activeTable(result.cleared) }] : []),
      {
        lines: [
          ...purged,
          ...unreachableLines(result.unreachable),
          ...(result.ended ? [`Exercise ${result.ended.id} ended: its faults are cleared.`] : []),
          ...(result.rulesUnloaded.length
            ? [`Your rules were taken out of Prometheus (files kept): ${result.rulesUnloaded.join(', ')}`]
            : []),
          'The lab is reset and every component is healthy.',
        ],
      },
    ],
  };
}
