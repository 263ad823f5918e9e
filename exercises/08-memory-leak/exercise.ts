/**
 * A memory leak: one instance keeps a buffer alive for every request it handles (a cache that is
 * never evicted), so its resident memory climbs with its traffic while every other instance stays
 * flat. The learner finds the instance by its job and instance labels and restarts it: the leak
 * lives in that process's memory, so a fresh process starts without it.
 */
import { defineExercise, instanceAnswer } from 'lab/exercise-api';

/**
 * The instances whose routes the traffic generator reaches often enough for a steady ramp, with
 * what each leaks per request so that every one grows by about 1.5-2.5 MB/s under the default
 * traffic (5 requests/s): measured, the gateway sees ~5 requests/s, each catalog replica ~2/s,
 * auth ~0.7/s. Orders (~0.3/s) and payments (~0.2/s) see too few requests: their memory rises in
 * a few big steps that a 30 s window can miss; inventory and notifications take no HTTP traffic.
 */
const LEAK_BYTES: Record<string, number> = {
  gateway: 393_216,
  'catalog-1': 1_048_576,
  'catalog-2': 1_048_576,
  auth: 3_145_728,
};
/**
 * Measured in lite mode over 30 s windows: the RSS of an instance without the leak moves by up
 * to ~200 kB/s either way (garbage collection, a traffic change), of a leaking one by 0.9-2.4 MB/s.
 * 512 KiB/s tells them apart with room on both sides.
 */
const MAX_GROWTH = 524_288;
const SERVICES = 'job=~"gateway|auth|catalog|orders|payments|inventory|notifications"';

interface Target {
  job: string;
  instance: string;
  /** The `instance` label Prometheus gives it: `127.0.0.1:8082` in lite mode, `catalog-1:8082` in Docker. */
  labels: string[];
}

export default defineExercise<Target>({
  id: '08',
  slug: 'memory-leak',
  title: 'The instance that keeps growing',
  topics: ['monitoring and alerting', 'disposable processes', 'per-instance runtime metrics'],
  signals: ['metrics', 'alerts'],
  modes: ['full', 'lite'],

  async setup(ctx, rng) {
    const instance = rng.pick(Object.keys(LEAK_BYTES));
    await ctx.faults.inject({ name: 'memory-leak', instance, options: { bytesPerRequest: LEAK_BYTES[instance] } });
    const job = ctx.instances.find((i) => i.name === instance)?.service ?? instance;
    return { job, instance, labels: ctx.instanceLabels(instance) };
  },

  answers: {
    job: {
      prompt: 'the job label of the instance whose memory grows',
      example: 'payments',
      pattern: /^[a-z]+$/,
      expected: (target) => target.job,
    },
    instance: instanceAnswer(
      'that instance: its name (catalog-2) or its instance label (127.0.0.1:8092)',
      'catalog-2',
      (target) => [target.instance, ...target.labels],
    ),
  },

  fix: [
    {
      name: 'memory-growth',
      description: `no ShopNow instance's resident memory grows by more than ${MAX_GROWTH / 1024} KiB/s`,
      // Every instance, the leaking one among them: the condition cannot be met by looking elsewhere.
      query: `max(deriv(process_resident_memory_bytes{${SERVICES}}[$window])) < ${MAX_GROWTH}`,
    },
  ],

  async solve(ctx, target) {
    await ctx.answer({ job: target.job, instance: target.instance });
    // The leaked buffers live in that process's memory: a fresh process does not have them.
    await ctx.restart(target.instance);
  },
});
