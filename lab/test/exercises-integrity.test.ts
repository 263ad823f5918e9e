/**
 * The learner who reads the fault list and clears the fault through the control plane, for every
 * exercise, in one lite lab (ports and schemas of its row in test/support/test-labs.ts): during
 * each exercise `lab faults` and `lab status` name none of its faults and say how many are
 * hidden, `lab fault clear` and `lab fault inject` are refused naming the operator actions and
 * leave every fault in force, no file the lab writes under .lab/ names a fault, its target or its
 * options (Prometheus' and Alertmanager's storage are the signals themselves), and `lab reset`
 * ends the attempt: a check after it fails, and drops what `lab config set` changed. For 05 and 10, with the right answers written in,
 * `lab check` fails while the fault acts. Needs the real MySQL, Redis and RabbitMQ, Debian's
 * prometheus and prometheus-alertmanager, and a build (`npx tsc -b`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { activeFaults, type ActiveEntry } from '../src/core/faults';
import { labPaths } from '../src/core/paths';
import { loadExercises } from '../src/exercises/catalog';
import { exerciseLab, item } from './exercise-lab';
import { eventually } from '../../test/support/eventually';

const lab = exerciseLab('exercises-integrity');
const paths = labPaths(process.env);
const exercises = loadExercises().map((e) => e.definition);
const OPERATOR_ACTIONS = [
  'lab restart',
  'lab rollback',
  'lab config set',
  'lab sql',
  'lab redis',
  'lab dlq',
  'lab rules load',
];
// What the learner's own tools keep: the signals, not the lab's records of what it broke.
const SIGNAL_STORES = new Set([paths.prometheus, paths.alertmanager]);

function labFiles(dir = paths.state): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (SIGNAL_STORES.has(full)) return [];
    return entry.isDirectory() ? labFiles(full) : [full];
  });
}

/**
 * What would give a fault away. Its name, in no file at all. Where it acts and its options, in
 * none of the lab's records (state files, the supervisor's log); the logs of the services and of
 * the traffic generator are signals, where what a fault does shows (a 500, more requests).
 */
function giveaways(fault: ActiveEntry, file: string): string[] {
  const signal = path.dirname(file) === paths.logs && path.basename(file) !== 'supervisor.log';
  return [
    fault.name,
    ...(signal
      ? []
      : [
          ...(fault.instance ? [`"instance":"${fault.instance}"`, `"target":"${fault.instance}"`] : []),
          ...Object.entries(fault.options).map(([key, value]) => `"${key}":${JSON.stringify(value)}`),
        ]),
  ];
}

async function json<T>(...args: string[]): Promise<T> {
  return JSON.parse((await lab.cli([...args, '--json'])).stdout) as T;
}

describe('no answer and no fix through the control plane, for every exercise', () => {
  let components: string[];
  beforeAll(async () => {
    await lab.up();
    components = (await json<{ components: Array<{ name: string }> }>('status')).components.map((c) => c.name);
  }, 300_000);
  afterAll(() => lab.down(), 90_000);

  it.each(exercises.map((d) => d.id))(
    'exercise %s',
    async (id) => {
      const { target } = await lab.start(id, 3);
      const inForce = (await activeFaults(lab.faults())).faults;
      const hidden = { id, hiddenFaults: inForce.length };

      expect(await json('faults')).toEqual({ faults: [], unreachable: [], hidden });
      const status = await json<{ components: Array<{ name: string }>; exercise: unknown; alerts: unknown }>('status');
      expect(status.exercise).toEqual(hidden);
      expect(status.components.map((c) => c.name)).toEqual(components);
      // Alerts name what the signals show: that is their job.
      const shown = JSON.stringify({ ...status, alerts: undefined });
      for (const fault of inForce) expect(shown).not.toContain(fault.name);

      const clear = await lab.cli(['fault', 'clear']);
      expect(clear.code).toBe(1);
      for (const action of OPERATOR_ACTIONS) expect(clear.stderr).toContain(action);
      expect(clear.stderr).toContain('`lab reset` ends the exercise');
      for (const fault of inForce) {
        const one = await lab.cli([
          'fault',
          'clear',
          fault.name,
          ...(fault.instance ? ['--instance', fault.instance] : []),
        ]);
        expect(one.code).toBe(1);
      }
      expect((await lab.cli(['fault', 'inject', 'latency', '--service', 'orders'])).code).toBe(1);
      expect((await activeFaults(lab.faults())).faults).toHaveLength(inForce.length);

      for (const file of labFiles()) {
        const text = fs.readFileSync(file, 'utf8');
        for (const fault of inForce)
          for (const giveaway of giveaways(fault, file))
            expect({ file, names: text.includes(giveaway) ? giveaway : undefined }).toEqual({ file, names: undefined });
      }

      if (id === '05' || id === '10') await expectFailsWithTheRightAnswers(id, target);
      // An operator action stays open during an exercise; what it set lasts until `lab reset`.
      if (id === '04') expect((await lab.cli(['config', 'set', 'catalog', 'CACHE_TTL_SECONDS=30'])).code).toBe(0);

      // What the reset cleared is not shown either: `lab start --seed` could give the same start again.
      const reset = await lab.cli(['reset', '--json']);
      expect(reset.code).toBe(0);
      expect(JSON.parse(reset.stdout)).toMatchObject({ cleared: [], ended: hidden });
      const after = await lab.cli(['check', id]);
      expect(after.code).toBe(2);
      expect(after.stderr).toContain(`exercise ${id} is not started`);
      expect(await json('faults')).toEqual({ faults: [], unreachable: [] });
      const config = await json<{ settings: Array<{ source: string }> }>('config', 'show', 'catalog');
      expect(new Set(config.settings.map((s) => s.source))).toEqual(new Set(['default']));
    },
    120_000,
  );
});

/** The right answers written in, the fault left on (the control plane refused to clear it): no pass. */
async function expectFailsWithTheRightAnswers(id: string, target: object) {
  const definition = exercises.find((d) => d.id === id);
  const answers = Object.entries(definition?.answers ?? {}).map(
    ([key, spec]) => `${key}=${([] as string[]).concat(spec.expected?.(target) ?? [])[0]}`,
  );
  expect((await lab.cli(['answer', id, ...answers])).code).toBe(0);
  const fix = definition?.fix?.[0]?.name ?? '';
  await eventually(`exercise ${id}'s fix to fail over a whole window`, 90_000, async () => {
    const { code, result } = await lab.check(id);
    return code === 1 && item(result, `fix/${fix}`)?.passed === false ? true : undefined;
  });
  const { result } = await lab.check(id);
  expect(result.items.filter((i) => i.name.startsWith('diagnosis/')).every((i) => i.passed)).toBe(true);
}
