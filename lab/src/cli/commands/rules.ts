import path from 'node:path';
import { loadRules, unloadRules } from '../../core/actions/rules';
import type { LabPaths } from '../../core/paths';
import type { LoadedAlert, LoadedRules } from '../../core/runtime/learner-rules';
import type { Cell, Report } from '../output';

/** `lab rules load | unload`: the learner's own alerting rules in and out of the lab's Prometheus. */
const stateCell = (alert: LoadedAlert): Cell =>
  alert.health === 'err'
    ? { text: `error: ${alert.lastError ?? ''}`, tone: 'bad' }
    : alert.state === 'firing'
      ? { text: 'firing', tone: 'bad' }
      : alert.state === 'pending'
        ? { text: 'pending', tone: 'warn' }
        : alert.state;

export async function rulesLoad(paths: LabPaths): Promise<Report<LoadedRules>> {
  const loaded = await loadRules(paths);
  const relative = (file: string) => path.relative(paths.home, file);
  return {
    data: loaded,
    ok: true,
    sections: [
      loaded.files.length
        ? { lines: [`promtool check rules accepted ${loaded.files.map(relative).join(', ')}; Prometheus reloaded.`] }
        : { lines: ['No exercises/NN-slug/answer.rules.yml to load: Prometheus runs the lab rules only.'] },
      ...(loaded.alerts.length
        ? [
            {
              table: {
                head: ['ALERT', 'STATE', 'FILE'],
                rows: loaded.alerts.map((a) => [a.name, stateCell(a), path.basename(a.file)]),
              },
            },
            {
              lines: [
                'An alert goes pending while its expression holds, then firing once it has held for its `for:`.',
                'Watch it in the Prometheus UI (/alerts); a firing page reaches `lab pages`.',
              ],
            },
          ]
        : []),
    ],
  };
}

export async function rulesUnload(paths: LabPaths): Promise<Report<{ removed: string[] }>> {
  const removed = await unloadRules(paths);
  return {
    data: { removed },
    ok: true,
    sections: [
      {
        lines: [
          removed.length
            ? `Unloaded ${removed.join(', ')}: Prometheus runs the lab rules only. Your answer files are kept.`
            : 'None of your rules was loaded.',
        ],
      },
    ],
  };
}
