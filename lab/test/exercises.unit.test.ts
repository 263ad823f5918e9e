/**
 * The exercise runner itself, with fixture exercises and stand-ins for the lab (no services,
 * no Prometheus): state written atomically, the truth kept only as salted hashes, seeds that
 * reproduce a start, answer validation, hints in order, the solution locked until a pass.
 * Also checks the real exercises/ folders against their definitions and exercises/README.md.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../src/core/errors';
import type { FaultContext } from '../src/core/faults';
import { labPaths, ROOT } from '../src/core/paths';
import { defineExercise, instanceAnswer, type ExerciseDefinition } from '../src/exercises/api';
import { exerciseFolders, hintSections, loadExercises, type Exercise } from '../src/exercises/catalog';
import { createRegistry } from '@shopnow/kit';
import { registerExerciseMetrics } from '../src/components/webhook/exercise-metrics';
import { seededRng } from '../src/exercises/rng';
import {
  checkExercise,
  forgetAttempt,
  nextHint,
  openSolution,
  parseAnswers,
  progressOf,
  startExercise,
  submitAnswers,
  type Runtime,
} from '../src/exercises/runner';
import { exerciseContext } from '../src/exercises/context';
import { checkSettings } from '../src/exercises/settings';
import { gatewayShop } from '../src/exercises/shop';
import { createWebhook } from '../src/components/webhook/webhook';
import { readState, writeState } from '../src/core/exercise-state';
import { hashAnswer, matches } from '../src/exercises/hashes';
import { traceView } from '../src/exercises/traces';

/** A fixture exercise: the answer is a word drawn from the seed; no fault, no fix. */
const wordExercise = defineExercise<{ word: string }>({
  id: '91',
  slug: 'pick-a-word',
  title: 'Pick a word',
  topics: ['fixtures'],
  signals: ['logs'],
  modes: ['lite', 'full'],
  async setup(_ctx, rng) {
    return { word: rng.pick(['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel']) };
  },
  answers: {
    word: { prompt: 'the word', example: 'alpha', pattern: /^[a-z]+$/, expected: (t) => t.word },
  },
  async solve(ctx, target) {
    await ctx.answer({ word: target.word });
  },
});

function fixtureFolder(root: string, definition: ExerciseDefinition): Exercise {
  const folder = path.join(root, `${definition.id}-${definition.slug}`);
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(
    path.join(folder, 'README.md'),
    '# Pick a word\n\nA story.\n\n## Tasks\n\n1. Find it.\n2. Say it.\n',
  );
  fs.writeFileSync(path.join(folder, 'hints.md'), '## Task 1\n\nLook.\n\n## Task 2\n\nSay.\n');
  fs.writeFileSync(path.join(folder, 'solution.md'), '# Solution\n\nThe word.\n');
  return { definition, folder };
}

function runtime(): { rt: Runtime; resets: number[] } {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-exercises-'));
  const paths = labPaths({ LAB_HOME: home });
  fs.mkdirSync(paths.state, { recursive: true });
  fs.writeFileSync(paths.mode, 'lite\n'); // lite mode, without detecting anything
  const resets: number[] = [];
  const faults = { instances: [], stateFile: paths.faults } as unknown as FaultContext;
  return {
    resets,
    rt: {
      paths,
      stateFile: path.join(paths.state, 'exercises.json'),
      exercises: [fixtureFolder(path.join(home, 'exercises'), wordExercise as ExerciseDefinition)],
      settings: checkSettings({}),
      progress: () => undefined,
      faults: () => faults,
      reset: async () => void resets.push(Date.now()),
    },
  };
}

describe('the exercise state', () => {
  it('is written whole through a temporary file, and read back the same', () => {
    const { rt } = runtime();
    const state = { version: 1 as const, current: '91', exercises: { '91': { starts: 2, passes: 1 } } };
    writeState(rt.stateFile, state);
    expect(readState(rt.stateFile)).toEqual(state);
    expect(fs.readdirSync(path.dirname(rt.stateFile)).filter((f) => f.includes('exercises'))).toEqual([
      'exercises.json',
    ]);
    // A crash before the rename leaves the previous state, never half of the new one.
    const rename = jest.spyOn(fs, 'renameSync').mockImplementationOnce(() => {
      throw new Error('crash');
    });
    expect(() => writeState(rt.stateFile, { version: 1, exercises: {} })).toThrow('crash');
    rename.mockRestore();
    expect(readState(rt.stateFile)).toEqual(state);
  });

  it('keeps the truth as salted hashes: the answer is not in the file, and another salt does not match', () => {
    const salt = 'a'.repeat(32);
    const hash = hashAnswer(salt, 'word', 'delta');
    expect(matches(salt, 'word', 'delta', [hash])).toBe(true);
    expect(matches(salt, 'word', 'echo', [hash])).toBe(false);
    expect(matches('b'.repeat(32), 'word', 'delta', [hash])).toBe(false);
  });
});

describe('seeds', () => {
  it('reproduce the same sequence, and differ between seeds', () => {
    const a = seededRng(42);
    const b = seededRng(42);
    const c = seededRng(43);
    const seqA = Array.from({ length: 10 }, () => a.int(0, 1_000_000));
    expect(Array.from({ length: 10 }, () => b.int(0, 1_000_000))).toEqual(seqA);
    expect(Array.from({ length: 10 }, () => c.int(0, 1_000_000))).not.toEqual(seqA);
  });
});

describe('the runner, with a fixture exercise', () => {
  it('starts reproducibly from a seed, after resetting the lab, and stores no answer in clear', async () => {
    const { rt, resets } = runtime();
    const first = await startExercise(rt, '91', { seed: 7 });
    const again = await startExercise(rt, '91', { seed: 7 });
    expect(again.target).toEqual(first.target);
    expect(resets).toHaveLength(2);
    const text = fs.readFileSync(rt.stateFile, 'utf8');
    expect(text).not.toContain((first.target as { word: string }).word);
    expect(readState(rt.stateFile).current).toBe('91');
  });

  it('validates answers: unknown keys, wrong forms, and an exercise that is not started', async () => {
    const { rt } = runtime();
    expect(() => submitAnswers(rt, '91', { word: 'alpha' })).toThrow(/not started: lab start 91/);
    await startExercise(rt, '91', { seed: 1 });
    expect(() => submitAnswers(rt, '91', { colour: 'red' })).toThrow(/has no answer "colour"; it asks for: word/);
    expect(() => submitAnswers(rt, '91', { word: 'Not A Word!' })).toThrow(UsageError);
    expect(() => parseAnswers(['word'])).toThrow(/key=value/);
    await expect(startExercise(rt, '42')).rejects.toThrow(/no exercise "42"/);
    expect(submitAnswers(rt, '91', parseAnswers(['word=alpha']))).toMatchObject({ missing: [] });
  });

  it('fails a wrong answer and an answer from another start, passes the right one, and records the times', async () => {
    const { rt } = runtime();
    const earlier = await startExercise(rt, '91', { seed: 3 });
    let other = 4;
    let now = await startExercise(rt, '91', { seed: other });
    while ((now.target as { word: string }).word === (earlier.target as { word: string }).word)
      now = await startExercise(rt, '91', { seed: ++other });
    submitAnswers(rt, '91', { word: (earlier.target as { word: string }).word });
    expect(progressOf(rt).exercises[0].wrongAnswers).toBe(0); // counted, not told before the pass
    const wrong = await checkExercise(rt, '91');
    expect(wrong).toEqual({
      passed: false,
      items: [{ name: 'diagnosis/word', passed: false, message: expect.stringContaining('is not right') }],
    });
    expect(() => openSolution(rt, '91')).toThrow(/opens after a pass: lab check 91/);
    submitAnswers(rt, '91', { word: (now.target as { word: string }).word.toUpperCase() }); // normalised
    const passed = await checkExercise(rt, '91');
    expect(passed).toMatchObject({ passed: true, figures: { wrongAnswers: 1, hintsShown: 0 } });
    expect(passed.figures?.secondsToPass).toBeGreaterThanOrEqual(passed.figures?.secondsToDiagnosis ?? Infinity);
    expect(openSolution(rt, '91').text).toContain('The word.');
    const {
      exercises: [row],
      total,
    } = progressOf(rt);
    expect(row).toMatchObject({ id: '91', status: 'passed', passes: 1, wrongAnswers: 1, hintsShown: 0 });
    expect(row.secondsToPass).toBeGreaterThanOrEqual(0);
    expect(total).toMatchObject({ passed: 1, of: 1, wrongAnswers: 1, secondsToPass: row.secondsToPass });
    const registry = createRegistry('lab-test', 'test');
    registerExerciseMetrics(registry, rt.stateFile);
    expect(await registry.metrics()).toMatch(/^lab_exercise_time_to_pass_seconds\{exercise="91"\} [\d.]+$/m);
  });

  it('reads answers.txt, with answers given on the command line taking precedence', async () => {
    const { rt } = runtime();
    const { target } = await startExercise(rt, '91', { seed: 5 });
    const file = path.join(rt.exercises[0].folder, 'answers.txt');
    fs.writeFileSync(file, `# my answers\nword = ${(target as { word: string }).word}\n`);
    expect(await checkExercise(rt, '91')).toMatchObject({ passed: true });
    fs.writeFileSync(file, 'colour=red\n');
    await expect(checkExercise(rt, '91')).rejects.toThrow(/answers.txt: exercise 91 has no answer "colour"/);
  });

  it('shows the hints in order, one per call, then keeps the last', async () => {
    const { rt } = runtime();
    await startExercise(rt, '91', { seed: 1 });
    expect(nextHint(rt, '91')).toMatchObject({ hint: 1, of: 2, text: expect.stringMatching(/^## Task 1\n\nLook\.$/) });
    expect(nextHint(rt, '91')).toMatchObject({ hint: 2, text: expect.stringMatching(/^## Task 2/) });
    expect(nextHint(rt, '91')).toMatchObject({ hint: 2 });
  });

  it('forgets the attempt under way on reset, keeping passes', async () => {
    const { rt } = runtime();
    await startExercise(rt, '91', { seed: 1 });
    expect(forgetAttempt(rt)).toBe('91');
    expect(readState(rt.stateFile)).toEqual({ version: 1, exercises: { '91': { starts: 1, passes: 0 } } });
    expect(forgetAttempt(rt)).toBeUndefined();
  });

  it('lets the scripted solution answer through the same path as `lab answer`', async () => {
    const { rt } = runtime();
    const { target } = await startExercise(rt, '91', { seed: 9 });
    await wordExercise.solve(
      { answer: async (values: Record<string, string>) => void submitAnswers(rt, '91', values) } as never,
      target as { word: string },
    );
    expect(await checkExercise(rt, '91')).toMatchObject({ passed: true });
  });
});

describe('definitions', () => {
  it('refuse a malformed definition, naming what is wrong', () => {
    expect(() =>
      defineExercise({
        ...(wordExercise as ExerciseDefinition),
        id: '7',
        signals: [],
        answers: { Word: { prompt: 'p', example: 'e' } },
        fix: [{ name: 'f', description: 'd', query: 'up == 1' }],
      }),
    ).toThrow(
      /id must be two digits; signals must be .*; answer key "Word" .*; answer "Word" has neither .*; fix "f" does not measure over \$window/,
    );
  });

  it('an instance answer takes the name or any instance label, with or without a scheme', () => {
    const spec = instanceAnswer<{ name: string }>('the instance', 'catalog-1', (t) => [t.name, '127.0.0.1:8092']);
    const typed = ['catalog-2', ' Catalog-2 ', 'http://127.0.0.1:8092', '127.0.0.1:8092', 'catalog-2:8082'];
    const forms = typed.map((value) => spec.normalise?.(value) ?? value);
    expect(forms).toEqual(['catalog-2', 'catalog-2', '127.0.0.1:8092', '127.0.0.1:8092', 'catalog-2:8082']);
    expect(forms.every((form) => spec.pattern?.test(form))).toBe(true);
    expect(['catalog 2', '127.0.0.1:80a2', 'catalog-2/'].some((bad) => spec.pattern?.test(bad))).toBe(false);
    expect(spec.expected?.({ name: 'catalog-2' })).toEqual(['catalog-2', '127.0.0.1:8092']);
  });

  it('check settings come from LAB_CHECK_WINDOW and LAB_CHECK_TIMEOUT, and refuse nonsense', () => {
    expect(checkSettings({ LAB_CHECK_WINDOW: '20s', LAB_CHECK_TIMEOUT: '2m' })).toEqual({
      window: '20s',
      timeoutMs: 120_000,
      pollMs: 2_000,
    });
    expect(() => checkSettings({ LAB_CHECK_WINDOW: 'soon' })).toThrow(/LAB_CHECK_WINDOW must be a duration/);
  });
});

describe('the exercises in exercises/', () => {
  // Loaded from exercises/dist, as the lab loads them: `npx tsc -b` first.
  const exercises = loadExercises();

  it('are all there, each folder with its story, hints per task and solution', () => {
    expect(exercises.map((e) => path.basename(e.folder))).toEqual(exerciseFolders());
    expect(exercises.length).toBeGreaterThanOrEqual(3);
    for (const exercise of exercises) {
      const readme = fs.readFileSync(path.join(exercise.folder, 'README.md'), 'utf8');
      const tasks = readme.split('\n').filter((line) => /^\d+\. /.test(line));
      expect(tasks.length).toBeGreaterThan(0);
      expect(hintSections(exercise).map((s) => s.split('\n')[0])).toEqual(tasks.map((_, i) => `## Task ${i + 1}`));
      expect(readme).toMatch(/lite mode/);
      expect(fs.readFileSync(path.join(exercise.folder, 'solution.md'), 'utf8').length).toBeGreaterThan(200);
    }
  });

  it('are listed in exercises/README.md exactly as their definitions say', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'exercises/README.md'), 'utf8');
    const rows = readme
      .split('\n')
      .filter((line) => line.startsWith('| ['))
      .map((line) =>
        line
          .split('|')
          .slice(1, -1)
          .map((cell) => cell.trim()),
      );
    expect(rows).toEqual(
      exercises.map(({ definition: d, folder }) => [
        `[${d.id} ${d.title}](${path.basename(folder)}/README.md)`,
        d.topics.join(', '),
        d.signals.join(', '),
        d.modes.join(', '),
      ]),
    );
  });
});

describe("exercise 16's evidence", () => {
  const verify = loadExercises().find((e) => e.definition.id === '16')?.definition.evidence?.[0]?.verify;
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const line = (service: string, fields: Record<string, unknown>) => ({
    service,
    text: JSON.stringify({ ...fields, service, trace_id: traceId }),
  });
  const gatewayAnswer = (status: number, code?: string) => [
    ...(code
      ? [line('gateway', { message: 'request failed', method: 'POST', path: '/api/orders', status, code })]
      : []),
    line('gateway', { message: 'request completed', method: 'POST', route: '/api/orders', status }),
  ];
  const ordersFailed = line('orders', { message: 'request failed', method: 'POST', path: '/orders', status: 504 });
  const verdict = (...records: Array<{ service: string; text: string }>) => {
    const trace = traceView(traceId, 'logs', records);
    if (!trace || !verify) throw new Error('exercise 16 has no evidence check');
    return verify(trace, {});
  };

  it('takes a failed checkout that reached orders', () => {
    expect(verdict(...gatewayAnswer(504), ordersFailed)).toBeUndefined();
  });

  it('names what is wrong with anything else', () => {
    expect(verdict(...gatewayAnswer(201), line('orders', { message: 'order settled' }))).toMatch(
      /did not answer the checkout with a 5xx/,
    );
    expect(
      verdict(line('gateway', { message: 'request completed', method: 'GET', route: '/api/products', status: 502 })),
    ).toMatch(/is not a POST \/api\/orders at the gateway/);
    expect(verdict(...gatewayAnswer(503, 'CIRCUIT_OPEN'))).toMatch(/circuit breaker answered without calling orders/);
    // orders restarting, or slower than the gateway's deadline: the trace ends at the gateway.
    expect(verdict(...gatewayAnswer(502, 'UPSTREAM_UNAVAILABLE'))).toMatch(/answered without orders/);
    expect(verdict(...gatewayAnswer(504, 'UPSTREAM_TIMEOUT'))).toMatch(/answered without orders/);
  });
});

describe('the exercise metrics', () => {
  it('are served by the lab webhook, read from the state beside its pages', async () => {
    const { rt } = runtime();
    writeState(rt.stateFile, {
      version: 1,
      exercises: { '02': { starts: 1, passes: 1, lastPassSeconds: 312, lastDiagnosisSeconds: 120, bestSeconds: 312 } },
    });
    const server = http.createServer(createWebhook(rt.paths.pages));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toContain('lab_exercise_time_to_pass_seconds{exercise="02"} 312');
      expect(text).toContain('lab_exercise_time_to_diagnosis_seconds{exercise="02"} 120');
      expect(text).toContain('lab_exercise_in_progress{exercise="02"} 0');
    } finally {
      server.close();
    }
  });
});

describe('the exercise context', () => {
  it('names the queue a consumer reads in this lab, and refuses a service that consumes none', () => {
    const { rt } = runtime();
    const ctx = exerciseContext({
      mode: 'lite',
      paths: rt.paths,
      folder: rt.exercises[0].folder,
      faults: { instances: [], queues: { inventory: 'exq_inventory.order-created' } } as unknown as FaultContext,
      shop: gatewayShop('http://127.0.0.1:1'),
      progress: () => undefined,
      answer: async () => undefined,
    });
    expect(ctx.queueOf('inventory')).toBe('exq_inventory.order-created');
    expect(() => ctx.queueOf('gateway')).toThrow(new UsageError('"gateway" consumes no queue; one of: inventory'));
  });
});
