import fs from 'node:fs';
import path from 'node:path';
import { LabError, UsageError } from '../core/errors';
import { ROOT } from '../core/paths';
import type { ExerciseDefinition } from './api';

/**
 * The exercises on disk: one folder per exercise, `exercises/NN-slug/`, holding its story
 * (README.md), hints (hints.md), solution (solution.md) and definition (exercise.ts, compiled
 * by `tsc -b` into exercises/dist/NN-slug/exercise.js, which is what the lab loads).
 */
export interface Exercise {
  definition: ExerciseDefinition;
  folder: string; // exercises/02-bad-replica
}

export const EXERCISES_DIR = path.join(ROOT, 'exercises');
const FOLDER = /^(\d{2})-[a-z0-9-]+$/;

export function exerciseFolders(dir = EXERCISES_DIR): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && FOLDER.test(entry.name))
    .map((entry) => entry.name)
    .sort();
}

function load(dir: string, folder: string): Exercise {
  const compiled = path.join(dir, 'dist', folder, 'exercise.js');
  if (!fs.existsSync(compiled)) throw new LabError(`${compiled} is missing: build the lab first (npx tsc -b)`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- definitions are found at run time
  const definition = (require(compiled) as { default?: ExerciseDefinition }).default;
  if (!definition) throw new LabError(`${compiled} has no default export (export default defineExercise({...}))`);
  if (`${definition.id}-${definition.slug}` !== folder)
    throw new LabError(`${folder}/exercise.ts defines ${definition.id}-${definition.slug}: the names must agree`);
  return { definition, folder: path.join(dir, folder) };
}

export function loadExercises(dir = EXERCISES_DIR): Exercise[] {
  return exerciseFolders(dir).map((folder) => load(dir, folder));
}

/** `2`, `02` or `02-bad-replica` all name exercise 02. */
export function findExercise(exercises: Exercise[], name: string): Exercise {
  const id = /^\d{1,2}/.exec(name)?.[0].padStart(2, '0');
  const found = exercises.find((e) => e.definition.id === id);
  if (!found)
    throw new UsageError(
      `no exercise "${name}"; \`lab exercises\` lists them: ${exercises.map((e) => e.definition.id).join(', ')}`,
    );
  return found;
}

const read = (exercise: Exercise, file: string) => fs.readFileSync(path.join(exercise.folder, file), 'utf8');

/** The story's opening (up to the first `##` heading) and its numbered tasks, for `lab start`. */
export function briefing(exercise: Exercise): { opening: string[]; tasks: string[] } {
  const lines = read(exercise, 'README.md').split('\n');
  const firstSection = lines.findIndex((line, i) => i > 0 && line.startsWith('## '));
  const opening = lines.slice(1, firstSection === -1 ? undefined : firstSection).filter((l) => l.trim());
  const tasks = lines.filter((line) => /^\d+\. /.test(line));
  return { opening, tasks };
}

/** hints.md cut at its `## ` headings: one section per task, shown one at a time. */
export function hintSections(exercise: Exercise): string[] {
  return read(exercise, 'hints.md')
    .split(/^(?=## )/m)
    .filter((section) => section.startsWith('## '))
    .map((section) => section.trim());
}

export const solutionText = (exercise: Exercise) => read(exercise, 'solution.md').trim();

/** exercises/NN-slug/answers.txt, when the learner keeps their answers there: `key=value` lines, `#` comments. */
export function answersFile(exercise: Exercise): { file: string; values: Record<string, string> } {
  const file = path.join(exercise.folder, 'answers.txt');
  if (!fs.existsSync(file)) return { file, values: {} };
  const values: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const text = line.replace(/#.*/, '').trim();
    const match = /^([a-z][a-z0-9-]*)\s*=\s*(.*)$/.exec(text);
    if (match && match[2]) values[match[1]] = match[2].trim();
  }
  return { file, values };
}
