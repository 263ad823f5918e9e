import { labTrace, labTraces, type SpanLine, type TraceFilter, type TraceSummary } from '../../core/actions/traces';
import { UsageError } from '../../core/errors';
import type { LabPaths } from '../../core/paths';
import type { Cell, Report } from '../output';

const ms = (value: number) => `${value.toFixed(1)} ms`;
const errors = (n: number): Cell => (n ? { text: String(n), tone: 'bad' } : '0');

/** `lab traces`: the newest traces with their durations, or one trace's span tree. */
export async function traces(
  paths: LabPaths,
  traceId: string | undefined,
  filter: TraceFilter,
): Promise<
  Report<{ source: string; traces: TraceSummary[] } | { source: string; trace: TraceSummary; spans: SpanLine[] }>
> {
  if (traceId) {
    if (Object.values(filter).some((v) => v !== undefined))
      throw new UsageError('give a trace id or filters (--service, --error, --min-duration, --limit), not both');
    return tree(await labTrace(paths, traceId));
  }
  const found = await labTraces(paths, filter);
  return {
    data: found,
    ok: true,
    sections: found.traces.length
      ? [
          {
            table: {
              head: ['TRACE', 'STARTED', 'DURATION', 'SPANS', 'ERRORS', 'ROOT', 'SERVICES'],
              rows: found.traces.map((t) => [
                t.traceId,
                new Date(t.startUs / 1000).toISOString(),
                ms(t.durationMs),
                String(t.spans),
                errors(t.errors),
                `${t.service} ${t.operation}`,
                t.services.join(','),
              ]),
            },
          },
          { lines: ['The span tree of one: lab traces <TRACE>'] },
        ]
      : [{ lines: [`No trace matches in the last hour at ${found.source}.`] }],
  };
}

function tree(found: { source: string; trace: TraceSummary; spans: SpanLine[] }) {
  const { trace, spans } = found;
  return {
    data: found,
    ok: true,
    sections: [
      {
        title: `${trace.traceId}: ${ms(trace.durationMs)}, ${trace.spans} spans, ${trace.errors} with errors`,
        table: {
          head: ['SPAN', 'SERVICE', 'START', 'DURATION'],
          rows: spans.map((s): Cell[] => [
            // A span whose parent never arrived starts a branch of its own, marked so.
            `${'  '.repeat(s.depth)}${s.orphan ? '(orphan) ' : ''}${s.operation}`,
            s.service,
            `+${ms(s.offsetMs)}`,
            s.error ? { text: `${ms(s.durationMs)} error`, tone: 'bad' } : ms(s.durationMs),
          ]),
        },
      },
    ],
  };
}
