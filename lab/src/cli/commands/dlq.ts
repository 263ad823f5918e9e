import {
  labBroker,
  listDeadLetters,
  purgeDeadLetterQueue,
  replayDeadLetters,
  type DeadLetterQueue,
} from '../../core/actions/dlq';
import type { LabPaths } from '../../core/paths';
import type { Report, Section } from '../output';

/** `lab dlq [list] | purge | replay`: the reports of the dead-letter queue actions. */
function queueSection(q: DeadLetterQueue): Section {
  if (!q.declared) return { title: q.queue, lines: ['(not declared yet: its consumer has not started)'] };
  if (!q.messages) return { title: `${q.queue}: empty`, lines: [] };
  const more =
    q.messages > q.shown.length ? [`... ${q.messages - q.shown.length} more not shown (lab dlq --limit <n>)`] : [];
  return {
    title: `${q.queue}: ${q.messages} message(s)`,
    table: {
      head: ['MESSAGE ID', 'ROUTING KEY', 'REASON', 'DEATHS', 'DEAD-LETTERED AT', 'BODY'],
      rows: q.shown.map((m) => [
        m.messageId ?? '-',
        m.routingKey ?? '-',
        m.reason ?? '-',
        String(m.deaths),
        m.deadLetteredAt ?? '-',
        m.preview,
      ]),
    },
    lines: more,
  };
}

export function dlqListReport(queues: DeadLetterQueue[]): Report<{ queues: DeadLetterQueue[] }> {
  return {
    data: { queues },
    ok: true,
    sections: [
      ...queues.map(queueSection),
      { lines: ['After reading them: `lab dlq purge <queue>` drops them, `lab dlq replay <queue>` retries them.'] },
    ],
  };
}

export async function dlqList(paths: LabPaths, limit: number) {
  return dlqListReport(await listDeadLetters(labBroker(paths), limit));
}

export async function dlqPurge(paths: LabPaths, queue: string): Promise<Report<{ queue: string; purged: number }>> {
  const result = await purgeDeadLetterQueue(labBroker(paths), queue);
  return { data: result, ok: true, sections: [{ lines: [`${result.queue}: ${result.purged} message(s) purged.`] }] };
}

export async function dlqReplay(paths: LabPaths, queue: string) {
  const result = await replayDeadLetters(labBroker(paths), queue);
  return {
    data: result,
    ok: true,
    sections: [
      {
        lines: [
          `${result.queue}: ${result.replayed.length} message(s) sent back to ${result.to}.`,
          'A message its consumer still cannot process comes back here: `lab dlq` again in a few seconds.',
        ],
      },
    ],
  };
}
