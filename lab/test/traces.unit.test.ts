import fs from 'node:fs';
import path from 'node:path';
import { spanTree, summarize } from '../src/core/actions/traces';
import type { JaegerTrace } from '../src/core/clients/jaeger';

// The recorded Jaeger 2.20 answer (fixtures/store) read as `lab traces` reads any Jaeger's.
const recorded = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures/store/jaeger-trace.json'), 'utf8')) as {
  data: JaegerTrace[];
};
const trace = recorded.data[0];

describe('lab traces, as data', () => {
  it('summarises a trace: root, duration over all spans, span and error counts, services', () => {
    expect(summarize(trace)).toEqual({
      traceId: '5b8efff798038103d269b633813fc60c',
      service: 'orders',
      operation: 'POST /checkout',
      startUs: 1485467191639875,
      durationMs: 400,
      spans: 2,
      errors: 1,
      services: ['orders'],
    });
  });

  it('draws the span tree with offsets and durations', () => {
    expect(spanTree(trace).map((l) => [l.depth, l.operation, l.offsetMs, l.durationMs, l.error, l.orphan])).toEqual([
      [0, 'POST /checkout', 0, 400, true, false],
      [1, 'GET catalog', 10, 300, false, false],
    ]);
  });

  it('shows a span whose parent is missing as an orphan branch, not lost', () => {
    const orphaned = { ...trace, spans: trace.spans.slice(1) };
    expect(spanTree(orphaned).map((l) => [l.depth, l.operation, l.orphan])).toEqual([[0, 'GET catalog', true]]);
  });
});
