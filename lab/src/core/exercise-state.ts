import fs from 'node:fs';
import path from 'node:path';

/**
 * The exercises' state, one file: `.lab/exercises.json`, written by the exercise runner and read
 * by the lab webhook (its times as metrics). The truth of a start is kept only as salted scrypt
 * hashes (exercises/state.ts), so reading the lab's files does not give the answers away.
 */
export interface Attempt {
  startedAt: string;
  salt: string;
  truth: Record<string, string[]>; // answer key -> hashes of the accepted values
  facts: Record<string, string>; // told to the learner at start (an order id)
  answers: Record<string, string>; // as submitted with `lab answer`
  /** Values `lab answer` was given that were not right: each is counted, none is told. */
  wrongAnswers?: number;
  /** The faults its setup left in force, hidden from the control plane while it runs. */
  hiddenFaults?: number;
  hintsShown: number;
  checks: number;
  diagnosedAt?: string;
  passedAt?: string;
}

export interface ExerciseRecord {
  starts: number;
  passes: number;
  attempt?: Attempt;
  /** From start to the first right diagnosis, and to the first pass, of the latest start that got there. */
  lastDiagnosisSeconds?: number;
  lastPassSeconds?: number;
  /** Of the latest start that passed: its wrong answers and the hints it asked for. */
  lastWrongAnswers?: number;
  lastHintsShown?: number;
  /** The best time to pass, over every start. */
  bestSeconds?: number;
}

export interface ExercisesState {
  version: 1;
  current?: string;
  exercises: Record<string, ExerciseRecord>;
}

export const emptyState = (): ExercisesState => ({ version: 1, exercises: {} });

export function readState(file: string): ExercisesState {
  if (!fs.existsSync(file)) return emptyState();
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as ExercisesState;
  return parsed.version === 1 ? parsed : emptyState();
}

/** Written whole to a temporary file and renamed over the old one: a reader never sees half a file. */
export function writeState(file: string, state: ExercisesState): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(temporary, file);
}

/** Reads, changes and writes the state in one step; answers what `change` answers. */
export function updateState<R>(file: string, change: (state: ExercisesState) => R): R {
  const state = readState(file);
  const result = change(state);
  writeState(file, state);
  return result;
}

export interface UnderWay {
  id: string;
  hiddenFaults: number;
}

/** The exercise being attempted now, if any: while it runs the fault control plane is closed to it. */
export function exerciseUnderWay(file: string): UnderWay | undefined {
  const state = readState(file);
  const attempt = state.current ? state.exercises[state.current]?.attempt : undefined;
  return state.current && attempt ? { id: state.current, hiddenFaults: attempt.hiddenFaults ?? 0 } : undefined;
}
