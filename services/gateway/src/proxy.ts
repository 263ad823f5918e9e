import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { trace } from '@opentelemetry/api';
import { AppError, type Faults, type Logger, type Registry } from '@shopnow/kit';
import type { Request, RequestHandler, Response } from 'express';
import CircuitBreaker from 'opossum';
import { proxyMetrics } from './proxy-metrics';
import { RETRYABLE_METHODS, servicePath, type UpstreamName } from './routes';
import { createRetryBudget, type RetryBudgetSettings } from './retry-budget';
import { readBody } from './request-body';
import type { Replica, Upstream, Upstreams } from './upstreams';

export interface ProxySettings {
  /** How long one try may wait for an upstream's response headers, per upstream. */
  timeoutsMs: Record<UpstreamName, number>;
  retry: { maxRetries: number; backoffMs: { min: number; max: number }; budget: RetryBudgetSettings };
  breaker: {
    errorThresholdPercentage: number;
    volumeThreshold: number;
    rollingWindowMs: number;
    resetTimeoutMs: number;
  };
  /** Largest request body forwarded; it is held in memory so that a retry can send it again. */
  bodyLimitBytes: number;
}

export type CircuitState = 'closed' | 'halfOpen' | 'open';

export interface Proxy {
  forward(upstream: UpstreamName): RequestHandler;
  circuitState(upstream: UpstreamName): CircuitState;
  close(): Promise<void>;
}

// Headers about one connection, not the message: they never cross a proxy (RFC 9110 section 7.6.1).
// `expect` too, since the gateway has already read the body.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'expect',
]);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = String(headers.connection ?? '')
    .split(',')
    .map((token) => token.trim().toLowerCase());
  return Object.fromEntries(
    Object.entries(headers).filter(
      ([name]) => !HOP_BY_HOP.has(name) && !name.startsWith('proxy-') && !named.includes(name),
    ),
  );
}

type FailureKind = 'timeout' | 'refused' | 'connection' | 'status' | 'aborted';

/** Why one try failed; `response` is set when the upstream did answer, with a 5xx. */
class UpstreamFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    readonly response?: IncomingMessage,
  ) {
    super(`upstream ${kind}`);
  }
}

interface Outgoing {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function outgoingOf(req: Request, body: Buffer): Outgoing {
  const headers = endToEnd(req.headers);
  // The gateway is the edge: what a client claims in X-Forwarded-For is not passed on as truth.
  headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
  if (
    body.length > 0 ||
    req.headers['content-length'] !== undefined ||
    req.headers['transfer-encoding'] !== undefined
  ) {
    headers['content-length'] = String(body.length);
  }
  return { method: req.method, path: servicePath(req.originalUrl), headers, body };
}

/**
 * Streams an upstream's body to the client. An upstream that goes away mid-body closes the client's
 * connection (there is nothing more to send); a client that goes away aborts the upstream request
 * through `clientGone` (forward). pipe() and one listener rather than stream.pipeline(), which adds
 * seven 'close' listeners to every response (with the instrumentation's that is past Node's ten, and
 * Node builds a MaxListenersExceededWarning with its stack trace on every request) and aborts an
 * AbortController, a DOMException, as each response ends.
 */
function relay(response: IncomingMessage, res: ServerResponse): void {
  response.once('close', () => {
    if (!response.complete) res.destroy();
  });
  response.pipe(res);
}

const connectionFailure = (err: { code?: string }): FailureKind =>
  err.code === 'ECONNREFUSED' ? 'refused' : 'connection';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Breaker = CircuitBreaker<[Upstream, Replica, Outgoing, AbortSignal], IncomingMessage>;

export function createProxy(
  options: ProxySettings & { upstreams: Upstreams; registry: Registry; log: Logger; faults?: Faults },
): Proxy {
  const { upstreams, timeoutsMs, retry, breaker: breakerSettings, log, faults } = options;
  const metrics = proxyMetrics(options.registry);

  /** One try against one replica, measured. A 5xx rejects, so that the breaker counts it as a failure. */
  function send(
    upstream: Upstream,
    replica: Replica,
    request: Outgoing,
    signal: AbortSignal,
  ): Promise<IncomingMessage> {
    const { hostname, port } = new URL(replica.url);
    const { method, path, headers, body } = request;
    const labels = { upstream: upstream.name, replica: replica.instance };
    const stopTimer = metrics.duration.startTimer(labels);
    return new Promise((resolve, reject) => {
      let settled = false;
      const outgoing = http.request({
        hostname,
        port,
        method,
        path,
        headers,
        agent: lane(upstream.name).agent,
        signal,
      });
      const timer = setTimeout(() => outgoing.destroy(new UpstreamFailure('timeout')), timeoutsMs[upstream.name]);
      outgoing.once('response', (response) => {
        settled = true;
        clearTimeout(timer);
        const status = response.statusCode ?? 502;
        stopTimer({ status_class: `${Math.floor(status / 100)}xx` });
        metrics.requests.inc({ ...labels, outcome: status >= 500 ? 'error' : 'success' });
        if (status >= 500) reject(new UpstreamFailure('status', response));
        else resolve(response);
      });
      outgoing.on('error', (err: Error & { code?: string }) => {
        if (settled) return; // the response is already on its way; its own stream reports what follows
        settled = true;
        clearTimeout(timer);
        const kind = err instanceof UpstreamFailure ? err.kind : signal.aborted ? 'aborted' : connectionFailure(err);
        if (kind !== 'aborted') {
          stopTimer({ status_class: 'none' });
          metrics.requests.inc({ ...labels, outcome: kind === 'timeout' ? 'timeout' : 'error' });
        }
        // A slow replica is the health check's to judge; one that cannot be reached is suspect at once.
        if (kind === 'refused' || kind === 'connection') upstream.reportFailure(replica, kind === 'refused');
        reject(new UpstreamFailure(kind));
      });
      outgoing.end(body);
    });
  }

  const lanes = new Map(
    upstreams.all().map((upstream) => {
      const breaker: Breaker = new CircuitBreaker(send, {
        name: upstream.name,
        timeout: false, // the tries time out themselves, per upstream
        errorThresholdPercentage: breakerSettings.errorThresholdPercentage,
        volumeThreshold: breakerSettings.volumeThreshold,
        rollingCountTimeout: breakerSettings.rollingWindowMs,
        resetTimeout: breakerSettings.resetTimeoutMs,
        // A client hanging up says nothing about the upstream (and a 4xx resolves: the client's doing too).
        errorFilter: (err: unknown) => err instanceof UpstreamFailure && err.kind === 'aborted',
      });
      metrics.watch(breaker, upstream, log);
      const lane = {
        upstream,
        breaker,
        agent: new http.Agent({ keepAlive: true }),
        budget: createRetryBudget(retry.budget),
      };
      return [upstream.name, lane] as const;
    }),
  );
  // The policy in force is exported, so that a bypassed budget shows before the storm it allows.
  const enforceBudget = (on: boolean) => {
    for (const name of lanes.keys()) metrics.budgetEnforced.set({ upstream: name }, on ? 1 : 0);
  };
  enforceBudget(!faults?.active('retry-storm'));
  faults?.onChange((name, changed) => {
    if (name === 'retry-storm') enforceBudget(changed === undefined);
  });
  function lane(name: UpstreamName) {
    const found = lanes.get(name);
    if (!found) throw new Error(`no upstream named ${name}`);
    return found;
  }

  function answer(res: Response, response: IncomingMessage, replica: Replica): void {
    res.status(response.statusCode ?? 502);
    for (const [name, value] of Object.entries(endToEnd(response.headers)))
      if (value !== undefined) res.setHeader(name, value);
    res.setHeader('x-upstream-instance', replica.instance);
    relay(response, res);
  }

  const retryable = (method: string, failure: UpstreamFailure) =>
    RETRYABLE_METHODS.has(method) &&
    (failure.kind !== 'status' || [502, 503, 504].includes(failure.response?.statusCode ?? 0));

  function forward(name: UpstreamName): RequestHandler {
    const { upstream, breaker, budget } = lane(name);
    return async (req, res) => {
      const request = outgoingOf(req, await readBody(req, options.bodyLimitBytes));
      const clientGone = new AbortController();
      res.once('close', () => {
        if (!res.writableFinished) clientGone.abort();
      });
      const span = trace.getActiveSpan();
      span?.setAttribute('shopnow.upstream', name);
      budget.recordRequest();
      const tried = new Set<Replica>();
      for (let attempt = 0; ; attempt += 1) {
        const replica = upstream.pick(tried);
        tried.add(replica);
        span?.setAttribute('shopnow.upstream.instance', replica.instance);
        let failure: UpstreamFailure;
        try {
          return answer(res, await breaker.fire(upstream, replica, request, clientGone.signal), replica);
        } catch (err) {
          if ((err as { code?: string }).code === 'EOPENBREAKER') {
            res.set('Retry-After', String(Math.max(1, Math.ceil(breakerSettings.resetTimeoutMs / 1000))));
            throw new AppError(503, 'CIRCUIT_OPEN', `${name} is failing; the gateway stops calling it for a while`);
          }
          if (!(err instanceof UpstreamFailure)) throw err;
          failure = err;
        }
        if (clientGone.signal.aborted) return void failure.response?.resume();
        // FAULT(retry-storm): every failure is retried, up to `attempts` tries, and the budget is never asked.
        const storm = faults?.active('retry-storm');
        let retrying = storm
          ? attempt + 1 < storm.attempts
          : attempt < retry.maxRetries && retryable(req.method, failure);
        if (retrying && !storm && !budget.tryRetry()) {
          metrics.retries.inc({ upstream: name, outcome: 'budget_exhausted' });
          retrying = false;
        }
        if (!retrying) {
          // A failure passed on after retries is logged here: the service's own answer is not.
          if (attempt > 0)
            log.warn('upstream failed after retries', { upstream: name, tries: attempt + 1, failure: failure.kind });
          if (failure.response) return answer(res, failure.response, replica);
          if (failure.kind === 'timeout') {
            throw new AppError(504, 'UPSTREAM_TIMEOUT', `${name} did not answer within ${timeoutsMs[name]} ms`);
          }
          throw new AppError(502, 'UPSTREAM_UNAVAILABLE', `${name} is unreachable`);
        }
        metrics.retries.inc({ upstream: name, outcome: 'retried' });
        failure.response?.resume();
        await sleep(retry.backoffMs.min + Math.random() * (retry.backoffMs.max - retry.backoffMs.min));
      }
    };
  }

  return {
    forward,
    circuitState(name) {
      const { breaker } = lane(name);
      return breaker.opened ? 'open' : breaker.halfOpen ? 'halfOpen' : 'closed';
    },
    async close() {
      for (const { breaker, agent } of lanes.values()) {
        breaker.shutdown();
        agent.destroy();
      }
    },
  };
}
