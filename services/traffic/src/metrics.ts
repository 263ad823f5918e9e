import { LATENCY_BUCKETS, prom, type Registry } from '@shopnow/kit';
import { JOURNEY_NAMES } from './profiles';

export const OUTCOMES = ['ok', 'client_error', 'server_error', 'rate_limited', 'network_error', 'timeout'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** What the traffic itself saw: the learner compares it with what the shop says it served. */
export function trafficMetrics(registry: Registry) {
  const requests = new prom.Counter({
    name: 'lab_traffic_requests_total',
    help: 'Requests the traffic generator sent, by journey and by how the shop answered.',
    labelNames: ['journey', 'outcome'],
    registers: [registry],
  });
  // Every series exists from the start, so that rate() and ratios work before the first error.
  for (const journey of JOURNEY_NAMES) for (const outcome of OUTCOMES) requests.inc({ journey, outcome }, 0);
  return {
    requests,
    duration: new prom.Histogram({
      name: 'lab_traffic_request_duration_seconds',
      help: 'Duration of the requests the traffic generator sent, as its users waited for them, by journey.',
      labelNames: ['journey'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    targetRate: new prom.Gauge({
      name: 'lab_traffic_target_rate',
      help: 'Requests per second the traffic generator is aiming at right now (0 while stopped).',
      registers: [registry],
    }),
    inFlight: new prom.Gauge({
      name: 'lab_traffic_in_flight',
      help: 'Journeys under way right now.',
      registers: [registry],
    }),
    dropped: new prom.Counter({
      name: 'lab_traffic_dropped_total',
      help: 'Journeys not started because too many were already under way (the shop is too slow for the rate).',
      registers: [registry],
    }),
  };
}

export type TrafficMetrics = ReturnType<typeof trafficMetrics>;

export function outcomeOf(status: number): Outcome {
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server_error';
  if (status >= 400) return 'client_error';
  return 'ok';
}
