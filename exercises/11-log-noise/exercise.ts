/**
 * Log noise: one instance writes tens of verbose lines for every request it serves (debug logging
 * left on in production), each carrying the request's headers. Nothing fails; the disk fills and
 * the log bill grows. The learner finds the instance from the services' own log counters
 * (log_messages_total, log_message_bytes_total), reads what it writes to name the line that
 * floods, and restarts it: the flag was switched on at runtime, so a fresh process is quiet.
 */
import { defineExercise } from 'lab/exercise-api';

/**
 * The flood is written per request a service handles on its own routes, so only the services the
 * traffic reaches can show it: inventory and notifications serve no routes of their own (they
 * consume RabbitMQ messages) and would never flood.
 */
const WITH_REQUESTS = ['gateway', 'auth', 'catalog', 'orders', 'payments'];
const SERVICES = 'job=~"gateway|auth|catalog|orders|payments|inventory|notifications"';
/** The message of the flood's lines (services/kit/src/faults/http.ts). */
const FLOOD_MESSAGE = 'request detail';
/**
 * Measured in lite mode over 30 s windows: every instance writes 1-2 lines per request (its
 * access line, and a warning now and then; a restart adds a few startup lines); the flooding one
 * writes its 15-40 flood lines more. 8 tells them apart with room on both sides.
 */
const MAX_LINES_PER_REQUEST = 8;

interface Target {
  instance: string;
  /** The `instance` label Prometheus gives it: `127.0.0.1:8092` in lite mode, `catalog-2:8092` in Docker. */
  labels: string[];
  linesPerRequest: number;
}

const unquoted = (value: string) =>
  value
    .trim()
    .toLowerCase()
    .replace(/^["']|["']$/g, '');

export default defineExercise<Target>({
  id: '11',
  slug: 'log-noise',
  title: 'Log noise',
  topics: ['centralised logs', 'structured logging', 'log volume as a cost and an outage risk'],
  signals: ['metrics', 'logs', 'alerts'],
  modes: ['full', 'lite'],

  async setup(ctx, rng) {
    const candidates = ctx.instances.filter((i) => WITH_REQUESTS.includes(i.service)).map((i) => i.name);
    const instance = rng.pick(candidates);
    const linesPerRequest = rng.int(15, 40);
    await ctx.faults.inject({ name: 'log-flood', instance, options: { linesPerRequest } });
    return { instance, labels: ctx.instanceLabels(instance), linesPerRequest };
  },

  answers: {
    instance: {
      prompt: 'the instance that floods its log: its name (catalog-2) or its instance label (127.0.0.1:8092)',
      example: 'catalog-2',
      normalise: (value) => unquoted(value).replace(/^https?:\/\//, ''),
      pattern: /^[a-z0-9.-]+(:\d+)?$/,
      expected: (target) => [target.instance, ...target.labels],
    },
    message: {
      prompt: 'the message of the line it repeats (the "message" field of its JSON lines)',
      example: 'request completed',
      normalise: unquoted,
      pattern: /^[\w .:/-]+$/,
      expected: () => FLOOD_MESSAGE,
    },
  },

  fix: [
    {
      name: 'log-lines-per-request',
      description: `every ShopNow instance that serves requests writes fewer than ${MAX_LINES_PER_REQUEST} log lines per request`,
      // Every instance, the flooding one among them: the condition cannot be met by looking elsewhere.
      // One that logs without serving a request (taken out of rotation) divides by zero: +Inf fails.
      query: `max(
        sum by (instance) (rate(log_messages_total{${SERVICES}}[$window]))
          / sum by (instance) (rate(http_server_request_duration_seconds_count{${SERVICES}}[$window]))
      ) < ${MAX_LINES_PER_REQUEST}`,
    },
  ],

  async solve(ctx, target) {
    await ctx.answer({ instance: target.instance, message: FLOOD_MESSAGE });
    // The verbose logging was switched on in that process at runtime: a fresh process starts quiet.
    await ctx.restart(target.instance);
  },
});
