/**
 * The exercise definition API: what an `exercises/NN-slug/exercise.ts` default-exports.
 * A definition says what to break and randomise (setup), what the learner must find (answers,
 * evidence) and what "fixed" means on the live Prometheus (fix), and how the reference solution
 * does it with real lab actions (solve). The lab runs it; nothing here touches the lab directly.
 */
import { MODES, type Mode } from '../core/mode';
import type { Rng } from './rng';
import type { ExerciseContext } from './context';
import type { CheckSettings } from './settings';
import type { Shop } from './shop';
import type { TraceLookup, TraceView } from './traces';

export type { ExerciseContext } from './context';
export type { Rng } from './rng';
export type { TraceView } from './traces';

export const SIGNALS = ['metrics', 'traces', 'logs', 'alerts'] as const;
export type Signal = (typeof SIGNALS)[number];

/** One thing the learner writes down: `lab answer NN <key>=<value>`. */
export interface AnswerSpec<T> {
  prompt: string; // what to write, shown by `lab answer` and `lab check`
  example: string;
  /** The accepted forms; a value outside them is refused at `lab answer` (exit 2). */
  pattern?: RegExp;
  /** Turns what was typed into the form compared (default: trimmed, lower case). */
  normalise?(value: string): string;
  /**
   * The right value(s) for this start, derived from the target; stored only as salted hashes.
   * Absent: the answer is graded by an evidence lookup instead (a trace id).
   */
  expected?(target: T): string | string[];
}

/**
 * An answer that names one instance: by its lab name (catalog-2) or by a label Prometheus gives it
 * (127.0.0.1:8092, catalog-2:8082), with or without a scheme. `expected` lists every accepted form
 * (the name and ctx.instanceLabels(name)).
 */
export function instanceAnswer<T>(prompt: string, example: string, expected: (target: T) => string[]): AnswerSpec<T> {
  return {
    prompt,
    example,
    normalise: (value) =>
      value
        .trim()
        .toLowerCase()
        .replace(/^https?:\/\//, ''),
    pattern: /^[a-z0-9.-]+(:\d+)?$/,
    expected,
  };
}

/** A lookup the grader makes with one of the answers: the trace the learner names must show the problem. */
export interface EvidenceSpec {
  answer: string; // the answer key holding a trace id
  description: string;
  /** undefined when the trace shows what it must; else what is missing, for the learner. */
  verify(trace: TraceView, facts: Record<string, string>): string | undefined;
}

/**
 * A PromQL condition on the live Prometheus: it holds when the query returns a sample.
 * `$window` is replaced by LAB_CHECK_WINDOW. The grader always ANDs it with "traffic is flowing".
 */
export interface FixCondition {
  name: string;
  description: string; // "the 5xx ratio of the product routes is under 1%"
  query: string;
}

/**
 * What a probe may use: the shop (to place a checkout of its own), the trace lookup of this mode,
 * and the lab as setup and solve see it (to load a learner's rules and watch an alert fire).
 */
export interface ProbeContext {
  shop: Shop;
  traces: TraceLookup;
  facts: Record<string, string>;
  lab: ExerciseContext;
  prometheusUrl: string;
  settings: CheckSettings;
}

/**
 * A fix no PromQL can see (whether a checkout's trace reaches the consumers): the lab acts and
 * looks itself, once per check. The grader ANDs it with "traffic is flowing" too.
 */
export interface FixProbe {
  name: string;
  description: string;
  /** undefined when the fix holds; else what is still wrong, for the learner. */
  probe(ctx: ProbeContext): Promise<string | undefined>;
}

export type FixCheck = FixCondition | FixProbe;
export const isProbe = (fix: FixCheck): fix is FixProbe => 'probe' in fix;

export interface ExerciseDefinition<T extends object = object> {
  id: string; // two digits: the folder's NN
  slug: string;
  title: string;
  topics: string[]; // the microservices topics it teaches
  signals: Signal[];
  modes: Mode[]; // full: the Docker stack (Grafana, Jaeger, Loki); lite: Prometheus UI, JSON logs
  /** Breaks the lab and answers the randomised target. Uses only `ctx`; all randomness from `rng`. */
  setup(ctx: ExerciseContext, rng: Rng): Promise<T>;
  /** What the learner is told at start and the grader may read (an order id): kept in plain text. */
  facts?(target: T): Record<string, string>;
  answers: Record<string, AnswerSpec<T>>;
  evidence?: EvidenceSpec[];
  fix?: FixCheck[];
  /** The reference solution through real lab actions: answers submitted, fix applied. Used by the tests. */
  solve(ctx: ExerciseContext, target: T): Promise<void>;
}

const ID = /^\d{2}$/;
const SLUG = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const KEY = /^[a-z][a-z0-9-]*$/;

/** Checks a definition's shape when it is loaded, so a mistake names the exercise and the field. */
export function defineExercise<T extends object>(definition: ExerciseDefinition<T>): ExerciseDefinition<T> {
  const where = `exercise ${definition.id}-${definition.slug}`;
  const problems: string[] = [];
  if (!ID.test(definition.id)) problems.push('id must be two digits');
  if (!SLUG.test(definition.slug)) problems.push('slug must be lower-case words joined by -');
  if (!definition.title) problems.push('title is empty');
  if (!definition.topics.length) problems.push('topics is empty');
  if (!definition.signals.length || definition.signals.some((s) => !SIGNALS.includes(s)))
    problems.push(`signals must be some of ${SIGNALS.join(', ')}`);
  if (!definition.modes.length || definition.modes.some((m) => !MODES.includes(m)))
    problems.push(`modes must be some of ${MODES.join(', ')}`);
  const keys = Object.keys(definition.answers);
  if (!keys.length) problems.push('no answers');
  for (const key of keys.filter((k) => !KEY.test(k))) problems.push(`answer key "${key}" is not a lower-case word`);
  for (const evidence of definition.evidence ?? [])
    if (!keys.includes(evidence.answer)) problems.push(`evidence names no answer "${evidence.answer}"`);
  for (const key of keys)
    if (!definition.answers[key].expected && !definition.evidence?.some((e) => e.answer === key))
      problems.push(`answer "${key}" has neither expected values nor an evidence lookup`);
  for (const fix of definition.fix ?? [])
    if (!isProbe(fix) && !fix.query.includes('$window'))
      problems.push(`fix "${fix.name}" does not measure over $window`);
  if (problems.length) throw new Error(`${where}: ${problems.join('; ')}`);
  return definition;
}
