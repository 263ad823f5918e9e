/**
 * The lab's public exercise API, `lab/exercise-api` (lab/package.json `exports`): all that an
 * exercise definition (exercises/NN-slug/exercise.ts) and bench/ may import from the lab. What is
 * not exported here is the lab's own business and may change without them noticing.
 */
export {
  defineExercise,
  instanceAnswer,
  SIGNALS,
  type AnswerSpec,
  type EvidenceSpec,
  type ExerciseContext,
  type ExerciseDefinition,
  type FixCheck,
  type FixCondition,
  type FixProbe,
  type ProbeContext,
  type Rng,
  type Signal,
  type TraceView,
} from './exercises/api';
export { TRAFFIC_FLOWING } from './exercises/grader';
export { BAD_RELEASE_VERSION } from './core/faults/lab-faults';
export { MODES, type Mode } from './core/mode';
// bench/ starts the services as lite mode does, from the same topology.
export { labPaths, type LabPaths } from './core/paths';
export { components, type Component } from './core/topology';
