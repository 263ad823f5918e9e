import { LabError, UsageError } from '../core/errors';
import { activeFaults, labFaultContext, resetLab, type FaultContext } from '../core/faults';
import { postJson } from '../core/http';
import { readState, updateState, type Attempt, type ExerciseRecord } from '../core/exercise-state';
import { currentMode } from '../core/mode';
import type { Progress } from '../core/progress';
import type { LabPaths } from '../core/paths';
import { endpoint, labComponents } from '../core/runtime/stack';
import type { ExerciseDefinition } from './api';
import { answersFile, findExercise, hintSections, loadExercises, solutionText, type Exercise } from './catalog';
import { exerciseContext } from './context';
import { gradeDiagnosis, gradeEvidence, gradeFix, normalised, type CheckItem } from './grader';
import { randomSeed, seededRng } from './rng';
import { checkSettings, type CheckSettings } from './settings';
import { gatewayShop } from './shop';
import { hashAnswer, matches, newSalt, secondsBetween } from './hashes';
import { jaegerTraceLookup, logTraceLookup } from './traces';

/** What every exercise command needs: where the lab is, its exercises, how to check, where to say progress. */
export interface Runtime {
  paths: LabPaths;
  stateFile: string;
  exercises: Exercise[];
  settings: CheckSettings;
  progress: Progress;
  /** The fault control plane of this lab, and its reset (the tests of the runner itself pass stand-ins). */
  faults: () => FaultContext;
  reset: (faults: FaultContext) => Promise<unknown>;
}

export function labRuntime(paths: LabPaths, progress: Progress, env: NodeJS.ProcessEnv = process.env): Runtime {
  let loaded: Exercise[] | undefined;
  return {
    paths,
    stateFile: exercisesStateFile(paths),
    // Loaded on first use: `lab reset` must work even before the exercises are built.
    get exercises() {
      return (loaded ??= loadExercises());
    },
    settings: checkSettings(env),
    progress,
    faults: () => labFaultContext(paths, env),
    reset: resetLab,
  };
}

export const exercisesStateFile = (paths: LabPaths) => paths.exercises;

export type Status = 'not started' | 'in progress' | 'passed';

function statusOf(record: ExerciseRecord | undefined): Status {
  if (record?.attempt?.passedAt || (record?.passes && !record.attempt)) return 'passed';
  return record?.attempt ? 'in progress' : 'not started';
}

export function listExercises(rt: Runtime) {
  const state = readState(rt.stateFile);
  return rt.exercises.map(({ definition: d }) => ({
    id: d.id,
    title: d.title,
    topics: d.topics,
    signals: d.signals,
    modes: d.modes,
    status: statusOf(state.exercises[d.id]),
  }));
}

/** The attempt under way for an exercise, or a usage error saying to start it. */
function attemptOf(rt: Runtime, name: string): { exercise: Exercise; attempt: Attempt } {
  const exercise = findExercise(rt.exercises, name);
  const attempt = readState(rt.stateFile).exercises[exercise.definition.id]?.attempt;
  if (!attempt)
    throw new UsageError(`exercise ${exercise.definition.id} is not started: lab start ${exercise.definition.id}`);
  return { exercise, attempt };
}

function checkedAnswers(definition: ExerciseDefinition, values: Record<string, string>): Record<string, string> {
  const keys = Object.keys(definition.answers);
  for (const [key, value] of Object.entries(values)) {
    const spec = definition.answers[key];
    if (!spec)
      throw new UsageError(
        `exercise ${definition.id} has no answer "${key}"; it asks for: ${keys.map((k) => `${k} (${definition.answers[k].prompt})`).join('; ')}`,
      );
    if (spec.pattern && !spec.pattern.test(normalised(definition, key, value)))
      throw new UsageError(`${key}=${value} is not in the expected form (${spec.prompt}), e.g. ${key}=${spec.example}`);
  }
  return values;
}

/** `key=value` pairs from the command line. */
export function parseAnswers(pairs: string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const pair of pairs) {
    const match = /^([a-z][a-z0-9-]*)=(.+)$/.exec(pair);
    if (!match) throw new UsageError(`answers are key=value, not "${pair}"`);
    values[match[1]] = match[2];
  }
  return values;
}

export function submitAnswers(rt: Runtime, name: string, values: Record<string, string>) {
  const { exercise } = attemptOf(rt, name);
  const { definition } = exercise;
  checkedAnswers(definition, values);
  return updateState(rt.stateFile, (state) => {
    const attempt = state.exercises[definition.id].attempt as Attempt;
    // Counted, not told: `lab answer` must not become a cheap oracle for guessing.
    const wrong = Object.entries(values).filter(
      ([key, value]) =>
        attempt.truth[key] && !matches(attempt.salt, key, normalised(definition, key, value), attempt.truth[key]),
    );
    attempt.wrongAnswers = (attempt.wrongAnswers ?? 0) + wrong.length;
    Object.assign(attempt.answers, values);
    const missing = Object.keys(definition.answers).filter((key) => attempt.answers[key] === undefined);
    return { id: definition.id, answers: { ...attempt.answers }, missing };
  });
}

export interface Started {
  id: string;
  title: string;
  seed: number;
  facts: Record<string, string>;
  folder: string;
}

/**
 * Resets the lab (every fault, and the previous exercise), makes sure traffic flows, runs the
 * exercise's setup with a seeded random source and keeps the truth as salted hashes.
 * Answers the target too, for the tests' scripted solution; the command prints only `Started`.
 */
export async function startExercise(
  rt: Runtime,
  name: string,
  options: { seed?: number } = {},
): Promise<{ started: Started; target: object }> {
  const exercise = findExercise(rt.exercises, name);
  const { definition } = exercise;
  const mode = currentMode(rt.paths);
  if (!definition.modes.includes(mode))
    throw new LabError(
      `exercise ${definition.id} needs the ${definition.modes.join(' or ')} mode; this lab runs ${mode}`,
    );
  const faults = rt.faults();
  rt.progress('resetting the lab: every fault cleared, every component healthy');
  await rt.reset(faults);
  updateState(rt.stateFile, (state) => {
    for (const record of Object.values(state.exercises)) delete record.attempt;
    delete state.current;
  });
  if (faults.trafficUrl) await postJson(`${faults.trafficUrl}/control`, { running: true });
  const seed = options.seed ?? randomSeed();
  rt.progress(`setting up exercise ${definition.id} (seed ${seed})`);
  const ctx = contextFor(rt, exercise, faults);
  const target = await definition.setup(ctx, seededRng(seed));
  const salt = newSalt();
  const truth: Record<string, string[]> = {};
  for (const [key, spec] of Object.entries(definition.answers)) {
    if (!spec.expected) continue;
    const accepted = ([] as string[]).concat(spec.expected(target));
    truth[key] = accepted.map((value) => hashAnswer(salt, key, normalised(definition, key, value)));
  }
  const facts = definition.facts?.(target) ?? {};
  // Counted once, now: a count that fell as the learner restarted things would grade them for free.
  const hiddenFaults = (await activeFaults(faults)).faults.length;
  updateState(rt.stateFile, (state) => {
    const record = (state.exercises[definition.id] ??= { starts: 0, passes: 0 });
    record.starts += 1;
    record.attempt = {
      startedAt: new Date().toISOString(),
      salt,
      truth,
      facts,
      answers: {},
      hiddenFaults,
      hintsShown: 0,
      checks: 0,
    };
    state.current = definition.id;
  });
  return { started: { id: definition.id, title: definition.title, seed, facts, folder: exercise.folder }, target };
}

/** The solve() of a definition, with the context a start gives it (tests drive the reference solution with it). */
export async function solveExercise(rt: Runtime, name: string, target: object) {
  const { exercise } = attemptOf(rt, name);
  await exercise.definition.solve(contextFor(rt, exercise, rt.faults()), target);
}

/** What setup, solve and probes may do to the lab: the same actions as the learner's commands. */
function contextFor(rt: Runtime, exercise: Exercise, faults: FaultContext) {
  const mode = currentMode(rt.paths);
  return exerciseContext({
    mode,
    paths: rt.paths,
    folder: exercise.folder,
    faults,
    shop: gatewayShop(endpoint(mode, rt.paths, 'gateway').url),
    progress: rt.progress,
    answer: async (values) => void submitAnswers(rt, exercise.definition.id, values),
  });
}

/** How an attempt went: time to the right diagnosis (MTTD) and to the pass (MTTR), wrong answers, hints. */
export interface AttemptFigures {
  secondsToDiagnosis?: number;
  secondsToPass?: number;
  wrongAnswers: number;
  hintsShown: number;
}

export interface CheckResult {
  passed: boolean;
  items: CheckItem[];
  /** On a pass: how the attempt went. */
  figures?: AttemptFigures;
}

export async function checkExercise(rt: Runtime, name: string): Promise<CheckResult> {
  const { exercise, attempt } = attemptOf(rt, name);
  const { definition } = exercise;
  const fromFile = answersFile(exercise);
  try {
    checkedAnswers(definition, fromFile.values);
  } catch (err) {
    throw new UsageError(`${fromFile.file}: ${(err as Error).message}`);
  }
  const answers = { ...fromFile.values, ...attempt.answers };
  const mode = currentMode(rt.paths);
  const services = [
    ...new Set(
      labComponents(rt.paths)
        .filter((c) => c.kind === 'service')
        .map((c) => c.job),
    ),
  ];
  const lookup =
    mode === 'full' ? jaegerTraceLookup(endpoint(mode, rt.paths, 'jaeger').url) : logTraceLookup(rt.paths, services);
  const diagnosis = gradeDiagnosis(definition, attempt, answers);
  const evidence = await gradeEvidence(definition, attempt, answers, lookup);
  if (definition.fix?.length) rt.progress(`measuring the fix on Prometheus (up to ${rt.settings.timeoutMs / 1000} s)`);
  const prometheusUrl = endpoint(mode, rt.paths, 'prometheus').url;
  const fix = await gradeFix(definition.fix ?? [], prometheusUrl, rt.settings, {
    shop: gatewayShop(endpoint(mode, rt.paths, 'gateway').url),
    traces: lookup,
    facts: attempt.facts,
    // Built only when a probe asks for it: a check without probes needs no fault control plane.
    get lab() {
      return contextFor(rt, exercise, rt.faults());
    },
    prometheusUrl,
    settings: rt.settings,
  });
  const items = [...diagnosis, ...evidence, ...fix];
  const passed = items.every((item) => item.passed);
  const now = new Date().toISOString();
  const figures = updateState(rt.stateFile, (state): AttemptFigures | undefined => {
    const record = state.exercises[definition.id];
    const current = record.attempt;
    if (!current || current.startedAt !== attempt.startedAt) return; // restarted meanwhile
    current.checks += 1;
    if (!current.diagnosedAt && diagnosis.length && diagnosis.every((item) => item.passed)) {
      current.diagnosedAt = now;
      record.lastDiagnosisSeconds = secondsBetween(current.startedAt, now);
    }
    if (passed && !current.passedAt) {
      current.passedAt = now;
      record.passes += 1;
      record.lastPassSeconds = secondsBetween(current.startedAt, now);
      record.bestSeconds = Math.min(record.bestSeconds ?? Infinity, record.lastPassSeconds);
      record.lastWrongAnswers = current.wrongAnswers ?? 0;
      record.lastHintsShown = current.hintsShown;
    }
    if (!passed) return undefined;
    return {
      secondsToDiagnosis: current.diagnosedAt ? secondsBetween(current.startedAt, current.diagnosedAt) : undefined,
      secondsToPass: current.passedAt ? secondsBetween(current.startedAt, current.passedAt) : undefined,
      wrongAnswers: current.wrongAnswers ?? 0,
      hintsShown: current.hintsShown,
    };
  });
  return { passed, items, ...(figures && { figures }) };
}

export function nextHint(rt: Runtime, name: string) {
  const { exercise } = attemptOf(rt, name);
  const sections = hintSections(exercise);
  if (!sections.length) throw new LabError(`${exercise.folder}/hints.md has no "## Task N" section`);
  return updateState(rt.stateFile, (state) => {
    const attempt = state.exercises[exercise.definition.id].attempt as Attempt;
    const index = Math.min(attempt.hintsShown, sections.length - 1);
    attempt.hintsShown = Math.min(attempt.hintsShown + 1, sections.length);
    return { id: exercise.definition.id, hint: index + 1, of: sections.length, text: sections[index] };
  });
}

export function openSolution(rt: Runtime, name: string) {
  const exercise = findExercise(rt.exercises, name);
  const record = readState(rt.stateFile).exercises[exercise.definition.id];
  if (!record?.passes)
    throw new LabError(
      `the solution of ${exercise.definition.id} opens after a pass: lab check ${exercise.definition.id}`,
    );
  return { id: exercise.definition.id, text: solutionText(exercise) };
}

/** Forgets the attempt under way (of one exercise, or the current one); passes and times are kept. */
export function forgetAttempt(rt: Runtime, name?: string): string | undefined {
  const id = name ? findExercise(rt.exercises, name).definition.id : undefined;
  return updateState(rt.stateFile, (state) => {
    const which = id ?? state.current;
    if (!which) return undefined;
    delete state.exercises[which]?.attempt;
    if (state.current === which) delete state.current;
    return which;
  });
}

/**
 * Per exercise: hints asked for (in the attempt under way, else the latest pass), wrong answers
 * and the times to the diagnosis and to the pass (of the latest pass); and the totals.
 */
export function progressOf(rt: Runtime) {
  const state = readState(rt.stateFile);
  const exercises = rt.exercises.map(({ definition: d }) => {
    const record = state.exercises[d.id];
    return {
      id: d.id,
      title: d.title,
      status: statusOf(record),
      starts: record?.starts ?? 0,
      passes: record?.passes ?? 0,
      hintsShown: record?.attempt?.hintsShown ?? record?.lastHintsShown ?? 0,
      // Of the latest pass only: a count that moved as you answered would tell right from wrong.
      wrongAnswers: record?.lastWrongAnswers ?? 0,
      secondsToDiagnosis: record?.lastDiagnosisSeconds,
      secondsToPass: record?.lastPassSeconds,
      bestSeconds: record?.bestSeconds,
    };
  });
  const sum = (pick: (e: (typeof exercises)[number]) => number | undefined) =>
    exercises.reduce((total, e) => total + (pick(e) ?? 0), 0);
  const total = {
    passed: exercises.filter((e) => e.status === 'passed').length,
    of: exercises.length,
    starts: sum((e) => e.starts),
    hintsShown: sum((e) => e.hintsShown),
    wrongAnswers: sum((e) => e.wrongAnswers),
    secondsToDiagnosis: sum((e) => e.secondsToDiagnosis),
    secondsToPass: sum((e) => e.secondsToPass),
  };
  return { exercises, total };
}
