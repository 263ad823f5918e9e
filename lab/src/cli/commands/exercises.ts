import path from 'node:path';
import type { Report } from '../output';
import { ROOT } from '../../core/paths';
import { briefing, findExercise } from '../../exercises/catalog';
import {
  checkExercise,
  forgetAttempt,
  listExercises,
  nextHint,
  openSolution,
  parseAnswers,
  progressOf,
  startExercise,
  submitAnswers,
  type AttemptFigures,
  type CheckResult,
  type Runtime,
  type Started,
} from '../../exercises/runner';

/** The exercise commands: each turns the runner's data into a Report (the same data --json prints). */
export function exercisesList(rt: Runtime): Report<ReturnType<typeof listExercises>> {
  const list = listExercises(rt);
  return {
    data: list,
    ok: true,
    sections: [
      {
        table: {
          head: ['NN', 'TITLE', 'STATUS', 'TOPICS'],
          rows: list.map((e) => [
            e.id,
            e.title,
            e.status === 'passed'
              ? { text: e.status, tone: 'ok' }
              : e.status === 'in progress'
                ? { text: e.status, tone: 'warn' }
                : e.status,
            e.topics.join(', '),
          ]),
        },
      },
      { lines: ['Start one with `lab start NN`; its story is in exercises/NN-slug/README.md.'] },
    ],
  };
}

export async function exerciseStart(rt: Runtime, name: string, seed?: number): Promise<Report<Started>> {
  const { started } = await startExercise(rt, name, { seed });
  const { opening, tasks } = briefing(findExercise(rt.exercises, name));
  const readme = path.relative(ROOT, path.join(started.folder, 'README.md'));
  const facts = Object.entries(started.facts).map(([key, value]) => `${key}: ${value}`);
  return {
    data: started,
    ok: true,
    sections: [
      { title: `Exercise ${started.id}: ${started.title}`, lines: opening },
      ...(facts.length ? [{ title: 'For this start', lines: facts }] : []),
      { title: 'Your tasks', lines: tasks },
      {
        lines: [
          `The whole story: ${readme}. A hint: lab hint ${started.id}. Answer: lab answer ${started.id} key=value.`,
          `Check: lab check ${started.id}. (Seed ${started.seed}: \`lab start ${started.id} --seed ${started.seed}\` sets up the same.)`,
        ],
      },
    ],
  };
}

export function exerciseHint(rt: Runtime, name: string): Report<ReturnType<typeof nextHint>> {
  const hint = nextHint(rt, name);
  const more = hint.hint < hint.of ? `\`lab hint ${hint.id}\` again for the next one.` : 'That was the last hint.';
  return {
    data: hint,
    ok: true,
    sections: [{ title: `Hint ${hint.hint} of ${hint.of}`, lines: [hint.text, '', more] }],
  };
}

export function exerciseAnswer(rt: Runtime, name: string, pairs: string[]): Report<ReturnType<typeof submitAnswers>> {
  const result = submitAnswers(rt, name, parseAnswers(pairs));
  return {
    data: result,
    ok: true,
    sections: [
      {
        lines: [
          `Recorded: ${Object.keys(result.answers).join(', ') || 'nothing yet'}.`,
          result.missing.length
            ? `Still to answer: ${result.missing.join(', ')}.`
            : `All answered: lab check ${result.id}.`,
        ],
      },
    ],
  };
}

export async function exerciseCheck(rt: Runtime, name: string): Promise<Report<CheckResult>> {
  const result = await checkExercise(rt, name);
  const id = findExercise(rt.exercises, name).definition.id;
  return {
    data: result,
    ok: result.passed,
    sections: [
      {
        table: {
          head: ['CHECK', 'RESULT', 'MESSAGE'],
          rows: result.items.map((i) => [
            i.name,
            i.passed ? { text: 'pass', tone: 'ok' } : { text: 'FAIL', tone: 'bad' },
            i.message,
          ]),
        },
      },
      { lines: [result.figures ? passedLine(id, result.figures) : 'Not yet.'] },
    ],
  };
}

export function exerciseSolution(rt: Runtime, name: string): Report<ReturnType<typeof openSolution>> {
  const solution = openSolution(rt, name);
  return { data: solution, ok: true, sections: [{ lines: [solution.text] }] };
}

export function exerciseForget(rt: Runtime, name?: string): Report<{ exercise?: string }> {
  const exercise = forgetAttempt(rt, name);
  return {
    data: { exercise },
    ok: true,
    sections: [
      {
        lines: [
          exercise ? `Exercise ${exercise}: attempt cleared (passes and times kept).` : 'No exercise was under way.',
        ],
      },
    ],
  };
}

const time = (s?: number) => (s === undefined ? '-' : `${Math.round(s)} s`);

function passedLine(id: string, f: AttemptFigures): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return (
    `Passed! Diagnosed in ${time(f.secondsToDiagnosis)}, fixed in ${time(f.secondsToPass)} ` +
    `(${plural(f.wrongAnswers, 'wrong answer')}, ${plural(f.hintsShown, 'hint')}). ` +
    `The solution is open: lab solution ${id}.`
  );
}

export function exerciseProgress(rt: Runtime): Report<ReturnType<typeof progressOf>> {
  const progress = progressOf(rt);
  const { total } = progress;
  return {
    data: progress,
    ok: true,
    sections: [
      {
        table: {
          head: ['NN', 'TITLE', 'STATUS', 'STARTS', 'PASSES', 'HINTS', 'WRONG', 'TO DIAGNOSIS', 'TO PASS', 'BEST'],
          rows: progress.exercises.map((r) => [
            r.id,
            r.title,
            r.status,
            String(r.starts),
            String(r.passes),
            String(r.hintsShown),
            String(r.wrongAnswers),
            time(r.secondsToDiagnosis),
            time(r.secondsToPass),
            time(r.bestSeconds),
          ]),
        },
      },
      {
        lines: [
          `${total.passed} of ${total.of} passed; ${total.starts} starts, ${total.hintsShown} hints, ` +
            `${total.wrongAnswers} wrong answers; ${time(total.secondsToDiagnosis)} to diagnose and ` +
            `${time(total.secondsToPass)} to fix, over the latest passes.`,
        ],
      },
    ],
  };
}
