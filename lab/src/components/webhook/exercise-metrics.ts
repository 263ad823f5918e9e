import { prom, type Registry } from '@shopnow/kit';
import { readState, type ExerciseRecord } from '../../core/exercise-state';

/**
 * The exercises as Prometheus metrics, read from .lab/exercises.json at every scrape of the lab
 * webhook's /metrics: how long a learner took to find the cause and to fix it, per exercise.
 */
const FAMILIES: Array<[string, 'counter' | 'gauge', string, (r: ExerciseRecord) => number | undefined]> = [
  ['lab_exercise_starts_total', 'counter', 'Times the exercise was started.', (r) => r.starts],
  ['lab_exercise_passes_total', 'counter', 'Starts of the exercise that passed their check.', (r) => r.passes],
  [
    'lab_exercise_time_to_diagnosis_seconds',
    'gauge',
    'From start to the first right diagnosis, latest start that got there.',
    (r) => r.lastDiagnosisSeconds,
  ],
  [
    'lab_exercise_time_to_pass_seconds',
    'gauge',
    'From start to the first pass, latest start that passed.',
    (r) => r.lastPassSeconds,
  ],
  ['lab_exercise_best_time_to_pass_seconds', 'gauge', 'The shortest time from start to pass.', (r) => r.bestSeconds],
  [
    'lab_exercise_in_progress',
    'gauge',
    '1 while the exercise is started and not yet passed.',
    (r) => (r.attempt && !r.attempt.passedAt ? 1 : 0),
  ],
];

/** Registers the exercise metrics on `registry`; each scrape reads `stateFile` afresh. */
export function registerExerciseMetrics(registry: Registry, stateFile: string): void {
  for (const [name, type, help, valueOf] of FAMILIES) {
    // Counters too are set from the file at each scrape: the state file, not this process, keeps the count.
    function collect(this: prom.Counter | prom.Gauge) {
      let exercises: Record<string, ExerciseRecord>;
      try {
        exercises = readState(stateFile).exercises;
      } catch {
        return; // a state file being replaced this instant: the next scrape reads it
      }
      this.reset();
      for (const [exercise, record] of Object.entries(exercises)) {
        const value = valueOf(record);
        if (value === undefined) continue;
        if (this instanceof prom.Counter) this.inc({ exercise }, value);
        else this.set({ exercise }, value);
      }
    }
    const config = { name, help, labelNames: ['exercise'], registers: [registry], collect };
    if (type === 'counter') new prom.Counter(config);
    else new prom.Gauge(config);
  }
}
