import { LATENCY_BUCKETS, prom, type Logger, type Registry } from '@shopnow/kit';
import type CircuitBreaker from 'opossum';
import type { Upstream } from './upstreams';

/** What the proxy exports: every try to a replica, the retries, and each circuit breaker's state. */
export function proxyMetrics(registry: Registry) {
  const duration = new prom.Histogram({
    name: 'gateway_upstream_request_duration_seconds',
    help: 'Time from the gateway sending a try to an upstream replica to its response headers (status_class none: no response).',
    labelNames: ['upstream', 'replica', 'status_class'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const requests = new prom.Counter({
    name: 'gateway_upstream_requests_total',
    help: 'Tries sent to upstream replicas, by outcome: success (below 500), error (5xx or no connection), timeout.',
    labelNames: ['upstream', 'replica', 'outcome'],
    registers: [registry],
  });
  const retries = new prom.Counter({
    name: 'gateway_retries_total',
    help: 'Retries the gateway made (retried) or wanted but its retry budget refused (budget_exhausted).',
    labelNames: ['upstream', 'outcome'],
    registers: [registry],
  });
  const budgetEnforced = new prom.Gauge({
    name: 'gateway_retry_budget_enforced',
    help: 'Whether the retry budget bounds the retries to an upstream (1) or is bypassed (0): the retry policy in force.',
    labelNames: ['upstream'],
    registers: [registry],
  });
  const state = new prom.Gauge({
    name: 'gateway_circuit_state',
    help: 'Circuit breaker state per upstream: 0 closed, 1 half-open (one probe allowed), 2 open (failing fast).',
    labelNames: ['upstream'],
    registers: [registry],
  });
  const transitions = new prom.Counter({
    name: 'gateway_circuit_transitions_total',
    help: 'Circuit breaker state changes per upstream, by the state entered.',
    labelNames: ['upstream', 'to'],
    registers: [registry],
  });

  /** Exports a breaker's state as it changes, and starts this upstream's series at zero. */
  function watch(breaker: CircuitBreaker, { name: upstream, replicas }: Upstream, log: Logger) {
    const enter = (to: 'closed' | 'half_open' | 'open', value: number) => () => {
      state.set({ upstream }, value);
      transitions.inc({ upstream, to });
      log.warn('circuit breaker changed state', { upstream, state: to });
    };
    breaker.on('close', enter('closed', 0));
    breaker.on('halfOpen', enter('half_open', 1));
    breaker.on('open', enter('open', 2));
    state.set({ upstream }, 0);
    for (const to of ['closed', 'half_open', 'open']) transitions.inc({ upstream, to }, 0);
    for (const outcome of ['retried', 'budget_exhausted']) retries.inc({ upstream, outcome }, 0);
    for (const { instance } of replicas) {
      for (const outcome of ['success', 'error', 'timeout']) requests.inc({ upstream, replica: instance, outcome }, 0);
    }
  }

  return { duration, requests, retries, budgetEnforced, watch };
}
