import { readState } from '../../core/exercise-state';

/**
 * The exercises as Prometheus metrics, read from .lab/exercises.json at every scrape of the lab
 * webhook's /metrics: how long a learner took to find the cause and to fix it, per exercise.
 */
const FAMILIES = [
  ['lab_exercise_starts_total', 'counter', 'Times the exercise was started.'],
  ['lab_exercise_passes_total', 'counter', 'Starts of the exercise that passed their check.'],
  [
    'lab_exercise_time_to_diagnosis_seconds',
    'gauge',
    'From start to the first right diagnosis, latest start that got there.',
  ],
  ['lab_exercise_time_to_pass_seconds', 'gauge', 'From start to the first pass, latest start that passed.'],
  ['lab_exercise_best_time_to_pass_seconds', 'gauge', 'The shortest time from start to pass.'],
  ['lab_exercise_in_progress', 'gauge', '1 while the exercise is started and not yet passed.'],
] as const;

export function exerciseMetrics(stateFile: string): string {
  let state;
  try {
    state = readState(stateFile);
  } catch {
    return ''; // a state file being replaced this instant: the next scrape reads it
  }
  const lines: string[] = [];
  for (const [name, type, help] of FAMILIES) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [id, r] of Object.entries(state.exercises)) {
      const value = {
        lab_exercise_starts_total: r.starts,
        lab_exercise_passes_total: r.passes,
        lab_exercise_time_to_diagnosis_seconds: r.lastDiagnosisSeconds,
        lab_exercise_time_to_pass_seconds: r.lastPassSeconds,
        lab_exercise_best_time_to_pass_seconds: r.bestSeconds,
        lab_exercise_in_progress: r.attempt && !r.attempt.passedAt ? 1 : 0,
      }[name];
      if (value !== undefined) lines.push(`${name}{exercise="${id}"} ${value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
