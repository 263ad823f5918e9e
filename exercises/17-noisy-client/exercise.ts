/**
 * A noisy client: one partner's API key floods the product listing. Its own limit (50 requests/s,
 * every client's) holds it to 50/s, but the listing has a shared budget of 40/s for all clients
 * together, so the flood spends it every second and ordinary customers get 429s. The learner
 * finds the client by the name the gateway counts it under (its logs; the metrics only say "an
 * API key"), and gives that client a limit of its own at runtime through the gateway's admin API.
 * The flood goes on: the fix must hold against it, as it would against a partner you cannot stop.
 */
import { createHash } from 'node:crypto';
import { defineExercise } from 'lab/exercise-api';

/** Journeys of ordinary customers: every one the traffic generator plays but the noisy client. */
const CUSTOMERS = 'journey!="noisy-client"';
/** What a customer counts as failed: refused (429), broken (5xx) or never answered. */
const FAILED = 'outcome=~"rate_limited|server_error|timeout|network_error"';

/** Partner integrations whose keys the flood may come from: the story's cast, drawn per start. */
const PARTNERS = ['pricewatch', 'dealfinder', 'shopcompare', 'catalog-sync', 'feedbuilder', 'bargainbot'];

interface Target {
  /** The name the gateway's rate limiter counts the client under: `key:` + 16 hex. */
  client: string;
  apiKey: string;
  rate: number;
}

const hex = (n: number, next: () => number) =>
  Array.from({ length: n }, () => Math.floor(next() * 16).toString(16)).join('');

export default defineExercise<Target>({
  id: '17',
  slug: 'noisy-client',
  title: 'The client who took it all',
  topics: ['the API gateway', 'rate limiting in Redis', 'authN/authZ at the gateway', 'structured logging'],
  signals: ['metrics', 'logs'],
  modes: ['full', 'lite'],

  async setup(ctx, rng) {
    const apiKey = `${rng.pick(PARTNERS)}-live-${hex(12, rng.next)}`;
    // The whole noisy profile: ~93% of it is the flood (80-140 requests/s), far over the 50/s the
    // client may make and the 40/s the listing has for everyone.
    const rate = rng.int(85, 150);
    // Every start begins with the configured limits: a limit set in an earlier attempt is gone.
    await ctx.admin('gateway', 'DELETE', '/rate-limits/clients');
    await ctx.faults.inject({ name: 'noisy-client', options: { rate, apiKey } });
    const client = `key:${createHash('sha256').update(apiKey).digest('hex').slice(0, 16)}`;
    return { client, apiKey, rate };
  },

  answers: {
    client: {
      prompt: 'the client that floods the listing, as the gateway names it (key:<16 hex digits>)',
      example: 'key:0123456789abcdef',
      normalise: (value) => value.trim().toLowerCase().replace(/^key:/, ''),
      pattern: /^[0-9a-f]{16}$/,
      expected: (target) => target.client,
    },
  },

  fix: [
    {
      name: 'customers-served',
      description: 'under 1% of the requests of ordinary customers are refused (429), fail (5xx) or time out',
      query: `(sum(rate(lab_traffic_requests_total{${CUSTOMERS},${FAILED}}[$window])) or vector(0))
        / sum(rate(lab_traffic_requests_total{${CUSTOMERS}}[$window])) < 0.01`,
    },
    {
      name: 'flood-goes-on',
      description: 'the noisy client still sends over 30 requests/s: the gateway holds it off, it was not made to stop',
      query: `sum(rate(lab_traffic_requests_total{journey="noisy-client"}[$window])) > 30`,
    },
  ],

  async solve(ctx, target) {
    await ctx.answer({ client: target.client });
    // What an operator does at 3 a.m.: a limit of its own for that one client (0: blocked), at
    // runtime, while the partner is called. The durable fix is in the solution.
    await ctx.admin('gateway', 'PUT', `/rate-limits/clients/${target.client}`, { points: 0 });
  },
});
