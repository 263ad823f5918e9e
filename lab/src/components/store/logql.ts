/**
 * The LogQL the lab uses, parsed with @grafana/lezer-logql into a plan the store runs:
 *   {label op "v", ...}          stream selector, op in = != =~ !~
 *   |= "x"  != "x"  |~ "re"  !~ "re"   line filters
 *   | name op "v"  | name >= 500       label filters (stream labels, structured metadata, parsed)
 *   | json                            parse the line's JSON fields into labels
 *   count_over_time(... [5m]), rate(... [1m]), optionally inside sum [by (labels)] (...)
 * Anything else is refused with a message that names the unsupported part.
 */
import { parser } from '@grafana/lezer-logql';
import v8 from 'node:v8';
import { parsePromDuration } from './durations';

// V8's linear-time engine: a learner's (or attacker's) regex cannot backtrack for minutes, and it
// refuses backreferences and lookarounds just as Loki's RE2 does.
v8.setFlagsFromString('--enable-experimental-regexp-engine');

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

export class LogQLError extends Error {}

export type MatchOp = '=' | '!=' | '=~' | '!~';
export type Matcher = { name: string; op: MatchOp; value: string; test: (v: string) => boolean };
export type Stage =
  | { kind: 'line'; op: '|=' | '!=' | '|~' | '!~'; value: string; test: (line: string) => boolean }
  | { kind: 'label'; matcher: Matcher }
  | { kind: 'number'; name: string; op: string; value: number }
  | { kind: 'json' };
export interface LogQuery {
  selector: Matcher[];
  stages: Stage[];
}
export interface MetricQuery {
  fn: 'count_over_time' | 'rate';
  rangeUs: number;
  log: LogQuery;
  sum?: { by: string[] };
}
export type Query = { type: 'log'; log: LogQuery } | { type: 'metric'; metric: MetricQuery };

const text = (query: string, node: SyntaxNode) => query.slice(node.from, node.to);
const kids = (node: SyntaxNode) => {
  const out: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) out.push(child);
  return out;
};
const unsupported = (query: string, node: SyntaxNode) =>
  new LogQLError(
    `unsupported by the lab's telemetry store: "${text(query, node)}" (see lab/src/components/store/logql.ts)`,
  );

function unquote(raw: string): string {
  if (raw.startsWith('`')) return raw.slice(1, -1);
  try {
    return JSON.parse(raw) as string;
  } catch {
    throw new LogQLError(`invalid string literal ${raw}`);
  }
}

function regex(source: string, anchored: boolean): RegExp {
  try {
    // eslint-disable-next-line no-invalid-regexp -- 'l' is V8's linear-engine flag, enabled above
    return new RegExp(anchored ? `^(?:${source})$` : source, 'l');
  } catch (error) {
    throw new LogQLError(`invalid regular expression "${source}": ${(error as Error).message}`);
  }
}

function matcher(query: string, node: SyntaxNode): Matcher {
  const [name, opNode, valueNode] = kids(node);
  const op = text(query, opNode) as MatchOp;
  const value = unquote(text(query, valueNode));
  const re = op === '=~' || op === '!~' ? regex(value, true) : undefined;
  const test = re ? (v: string) => re.test(v) === (op === '=~') : (v: string) => (v === value) === (op === '=');
  return { name: text(query, name), op, value, test };
}

function lineFilter(query: string, node: SyntaxNode): Stage {
  const [filter, valueNode, ...rest] = kids(node);
  if (rest.length > 0) throw unsupported(query, node);
  const op = text(query, filter) as '|=' | '!=' | '|~' | '!~';
  const value = unquote(text(query, valueNode));
  const re = op === '|~' || op === '!~' ? regex(value, false) : undefined;
  if (!['|=', '!=', '|~', '!~'].includes(op)) throw unsupported(query, node);
  const test = re ? (l: string) => re.test(l) === (op === '|~') : (l: string) => l.includes(value) === (op === '|=');
  return { kind: 'line', op, value, test };
}

function stage(query: string, node: SyntaxNode): Stage[] {
  const [first, second] = kids(node);
  if (first.name === 'LineFilters')
    return kids(first)
      .filter((n) => n.name === 'LineFilter')
      .map((n) => lineFilter(query, n));
  if (first.name !== 'Pipe' || !second) throw unsupported(query, node);
  const inner = kids(second);
  if (second.name === 'LabelParser' && inner.length === 1 && inner[0].name === 'Json') return [{ kind: 'json' }];
  if (second.name === 'LabelFilter' && inner.length === 1 && inner[0].name === 'Matcher')
    return [{ kind: 'label', matcher: matcher(query, inner[0]) }];
  if (second.name === 'LabelFilter' && inner.length === 1 && inner[0].name === 'NumberFilter') {
    const [name, op, literal] = kids(inner[0]);
    return [{ kind: 'number', name: text(query, name), op: text(query, op), value: Number(text(query, literal)) }];
  }
  throw unsupported(query, second);
}

function logQuery(query: string, parts: SyntaxNode[]): LogQuery {
  const log: LogQuery = { selector: [], stages: [] };
  for (const part of parts) {
    if (part.name === 'Selector') {
      const matchers: SyntaxNode[] = [];
      const collect = (n: SyntaxNode) => kids(n).forEach((k) => (k.name === 'Matcher' ? matchers.push(k) : collect(k)));
      collect(part);
      log.selector = matchers.map((m) => matcher(query, m));
    } else if (part.name === 'PipelineExpr') {
      const stages: SyntaxNode[] = [];
      const collect = (n: SyntaxNode) =>
        kids(n).forEach((k) => (k.name === 'PipelineStage' ? stages.push(k) : collect(k)));
      collect(part);
      log.stages = stages.flatMap((s) => stage(query, s));
    } else if (part.name !== 'Range' && part.name !== '(' && part.name !== ')') throw unsupported(query, part);
  }
  if (!log.selector.some((m) => !m.test('')))
    throw new LogQLError(
      'queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will',
    );
  return log;
}

function metricQuery(query: string, node: SyntaxNode): MetricQuery {
  const [first, ...rest] = kids(node);
  if (first.name === 'RangeAggregationExpr') {
    const [op, range] = kids(first);
    const fn = text(query, op);
    if ((fn !== 'count_over_time' && fn !== 'rate') || range?.name !== 'LogRangeExpr') throw unsupported(query, first);
    const rangeNode = kids(range).find((n) => n.name === 'Range');
    const rangeUs = rangeNode ? parsePromDuration(text(query, rangeNode).slice(1, -1)) : undefined;
    if (!rangeUs) throw unsupported(query, range);
    return { fn, rangeUs, log: logQuery(query, kids(range)) };
  }
  if (first.name === 'VectorAggregationExpr' && rest.length === 0) {
    const parts = kids(first);
    if (text(query, parts[0]) !== 'sum') throw unsupported(query, parts[0]);
    const grouping = parts.find((n) => n.name === 'Grouping');
    if (grouping && kids(grouping)[0]?.name !== 'By') throw unsupported(query, grouping);
    const by = grouping
      ? kids(grouping).flatMap((n) => (n.name === 'Labels' ? kids(n).map((l) => text(query, l)) : []))
      : [];
    const inner = parts.find((n) => n.name === 'MetricExpr');
    if (!inner) throw unsupported(query, first);
    const metric = metricQuery(query, inner);
    if (metric.sum) throw unsupported(query, inner);
    return { ...metric, sum: { by } };
  }
  throw unsupported(query, node);
}

export function parseLogQL(query: string): Query {
  if (query.length > 10_000) throw new LogQLError('the query is longer than 10000 characters');
  const tree = parser.parse(query);
  let error: number | undefined;
  tree.iterate({
    enter: (n) => {
      if (n.type.isError) error ??= n.from;
    },
  });
  if (error !== undefined) {
    const near = query.slice(error, error + 20) || '$end';
    throw new LogQLError(`parse error at line 1, col ${error + 1}: syntax error: unexpected ${near}`);
  }
  const expr = tree.topNode.firstChild?.firstChild;
  if (!expr) throw new LogQLError('parse error : syntax error: unexpected $end');
  if (expr.name === 'LogExpr') return { type: 'log', log: logQuery(query, kids(expr)) };
  if (expr.name === 'MetricExpr') return { type: 'metric', metric: metricQuery(query, expr) };
  throw unsupported(query, expr);
}
