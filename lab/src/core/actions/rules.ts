import { currentMode } from '../mode';
import type { LabPaths } from '../paths';
import { loadLearnerRules, unloadLearnerRules, type LoadedRules } from '../runtime/learner-rules';

/** `lab rules load | unload`: the learner's own alerting rules in and out of the lab's Prometheus. */
export const loadRules = (paths: LabPaths): Promise<LoadedRules> => loadLearnerRules(paths, currentMode(paths));

export const unloadRules = (paths: LabPaths): Promise<string[]> => unloadLearnerRules(paths, currentMode(paths));
