import { prom, type Logger, type Registry } from '@shopnow/kit';
import type { UpstreamName } from './routes';

export interface UpstreamConfig {
  name: UpstreamName;
  /** One URL per replica, e.g. two catalog processes on 8082 and 8092. */
  urls: string[];
}

export interface HealthCheckSettings {
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive failed checks before a replica leaves the rotation (a refused connection: at once). */
  unhealthyAfter: number;
}

export interface Replica {
  url: string;
  /** host:port, the `replica` label of the gateway's upstream metrics (`instance` is Prometheus's: the gateway). */
  instance: string;
  healthy: boolean;
  consecutiveFailures: number;
}

export interface Upstream {
  name: UpstreamName;
  replicas: Replica[];
  /** The next replica in round-robin order among the healthy ones this request has not tried. */
  pick(tried: ReadonlySet<Replica>): Replica;
  /** A proxied request could not reach the replica: it becomes suspect without waiting for a check. */
  reportFailure(replica: Replica, refused: boolean): void;
}

export interface Upstreams {
  get(name: UpstreamName): Upstream;
  all(): Upstream[];
  /** Stops the health checks. */
  close(): Promise<void>;
}

const instanceOf = (url: URL) => `${url.hostname}:${url.port || '80'}`;

/** fetch reports a refused connection as the cause of a TypeError, and a timeout as a TimeoutError. */
const codeOf = (err: unknown) =>
  (err as { cause?: { code?: string } }).cause?.code ?? (err as { name?: string }).name ?? 'error';

/**
 * Client-side load balancing: the gateway knows every replica, checks each one's /health/ready
 * on a timer and spreads requests round-robin over those that answer. When none answers it tries
 * them all anyway (fail open): a replica that is only slow to report is better than a certain 503.
 */
export function createUpstreams(
  configs: UpstreamConfig[],
  options: { health: HealthCheckSettings; registry: Registry; log: Logger },
): Upstreams {
  const { health, log } = options;
  const healthyGauge = new prom.Gauge({
    name: 'gateway_upstream_healthy',
    help: 'Whether the gateway sends traffic to a replica (1) or has taken it out of rotation (0).',
    labelNames: ['upstream', 'replica'],
    registers: [options.registry],
  });
  const stopping = new AbortController();

  const upstreams: Upstream[] = [];
  const checks: Array<() => Promise<void>> = [];
  for (const { name, urls } of configs) {
    const replicas = urls.map((url) => ({
      url,
      instance: instanceOf(new URL(url)),
      healthy: true,
      consecutiveFailures: 0,
    }));
    let turn = 0;

    const setHealthy = (replica: Replica, healthy: boolean, reason: string) => {
      healthyGauge.set({ upstream: name, replica: replica.instance }, healthy ? 1 : 0);
      if (replica.healthy === healthy) return;
      replica.healthy = healthy;
      if (healthy) log.info('replica back in rotation', { upstream: name, instance: replica.instance });
      else log.warn('replica taken out of rotation', { upstream: name, instance: replica.instance, reason });
    };
    const reportFailure = (replica: Replica, refused: boolean, reason = 'proxied request failed') => {
      replica.consecutiveFailures += 1;
      if (refused || replica.consecutiveFailures >= health.unhealthyAfter) setHealthy(replica, false, reason);
    };
    for (const { instance } of replicas) healthyGauge.set({ upstream: name, replica: instance }, 1);

    upstreams.push({
      name,
      replicas,
      pick(tried) {
        const untried = replicas.filter((replica) => !tried.has(replica));
        const healthy = untried.filter((replica) => replica.healthy);
        const candidates = healthy.length > 0 ? healthy : untried.length > 0 ? untried : replicas;
        turn = (turn + 1) % 1_000_000;
        return candidates[turn % candidates.length];
      },
      reportFailure,
    });

    for (const replica of replicas) {
      let running = false;
      checks.push(async () => {
        if (running) return;
        running = true;
        let failure: string | undefined;
        try {
          const signal = AbortSignal.any([AbortSignal.timeout(health.timeoutMs), stopping.signal]);
          const res = await fetch(new URL('/health/ready', replica.url), { signal });
          await res.body?.cancel();
          if (!res.ok) failure = `answered ${res.status}`;
        } catch (err) {
          failure = codeOf(err);
        }
        running = false;
        if (stopping.signal.aborted) return;
        if (failure === undefined) {
          replica.consecutiveFailures = 0;
          setHealthy(replica, true, 'health check passed');
        } else {
          reportFailure(replica, failure === 'ECONNREFUSED', `health check failed: ${failure}`);
        }
      });
    }
  }

  const checkAll = () => checks.forEach((check) => void check());
  checkAll();
  const timer = setInterval(checkAll, health.intervalMs);
  timer.unref();

  return {
    get(name) {
      const upstream = upstreams.find((candidate) => candidate.name === name);
      if (!upstream) throw new Error(`no upstream named ${name}`);
      return upstream;
    },
    all: () => upstreams,
    async close() {
      clearInterval(timer);
      stopping.abort();
    },
  };
}
