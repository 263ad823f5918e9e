import { createHash } from 'node:crypto';
import { AppError, prom, type Caller, type Logger, type Registry } from '@shopnow/kit';
import { type Redis } from '@shopnow/kit/redis';
import type { Request, RequestHandler, Response } from 'express';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { ClientLimits } from './client-limits';

export interface RateLimitSettings {
  /** Requests each client may make per window. */
  points: number;
  windowSeconds: number;
  /** Prefix of the Redis keys (tests give each run its own). */
  keyPrefix: string;
  /**
   * Requests per window that all clients together may make on a route (by its template): what
   * the service behind it was sized for. Each client's own limit is taken first.
   */
  routeBudgets?: Record<string, number>;
}

type KeyType = 'user' | 'api_key' | 'ip';

/**
 * Who is counted: the signed-in user; else the API key a client names (hashed, so the key itself
 * never sits in Redis or in a log); else the client's address. An API key is only a name for
 * counting here, not a credential: the gateway does not issue or check them.
 */
function clientKey(req: Request, res: Response): { type: KeyType; key: string } {
  const caller = res.locals.caller as Caller | undefined;
  if (caller) return { type: 'user', key: `user:${caller.userId}` };
  const apiKey = req.get('x-api-key');
  if (apiKey) return { type: 'api_key', key: `key:${createHash('sha256').update(apiKey).digest('hex').slice(0, 16)}` };
  return { type: 'ip', key: `ip:${req.socket.remoteAddress ?? 'unknown'}` };
}

/**
 * A fixed-window limit per client, counted in Redis so that every gateway replica shares it, then
 * the route's shared budget if it has one. When Redis fails the request passes (fail open): the
 * shop staying available matters more than the limit being exact for a while. The kit's Redis
 * client fails at once when Redis is away, so an outage adds no latency; it shows in
 * gateway_rate_limiter_errors_total.
 */
export function rateLimit(
  options: RateLimitSettings & { redis: Redis; registry: Registry; log: Logger; clients: ClientLimits },
): RequestHandler {
  const { windowSeconds, log, clients } = options;
  const limiters = new Map<number, RateLimiterRedis>();
  // One limiter per limit in use: a client given its own limit keeps its counter, only the bound moves.
  const limiter = (points: number) => {
    let found = limiters.get(points);
    if (!found) {
      found = new RateLimiterRedis({
        storeClient: options.redis,
        points,
        duration: windowSeconds,
        keyPrefix: options.keyPrefix,
        rejectIfRedisNotReady: true,
      });
      limiters.set(points, found);
    }
    return found;
  };
  const limited = new prom.Counter({
    name: 'gateway_rate_limited_total',
    help: "Requests refused with 429, by what identified the client and which limit refused it: the client's own or a route's shared budget.",
    labelNames: ['key_type', 'scope'],
    registers: [options.registry],
  });
  for (const keyType of ['user', 'api_key', 'ip'])
    for (const scope of ['client', 'route']) limited.inc({ key_type: keyType, scope }, 0);
  const errors = new prom.Counter({
    name: 'gateway_rate_limiter_errors_total',
    help: 'Requests let through unlimited because the rate limiter could not reach Redis (fail open).',
    registers: [options.registry],
  });

  /** Tells every client where it stands; returns the seconds until its window starts again. */
  const setHeaders = (res: Response, points: number, state: RateLimiterRes): string => {
    const resetSeconds = String(Math.max(1, Math.ceil(state.msBeforeNext / 1000)));
    res.set('RateLimit-Limit', String(points));
    res.set('RateLimit-Remaining', String(state.remainingPoints));
    res.set('RateLimit-Reset', resetSeconds);
    return resetSeconds;
  };

  /** Takes one point: the limiter's answer, or undefined when Redis is away (the request passes). */
  async function take(points: number, key: string): Promise<{ over: boolean; state: RateLimiterRes } | undefined> {
    try {
      return { over: false, state: await limiter(points).consume(key) };
    } catch (err) {
      if (err instanceof RateLimiterRes) return { over: true, state: err };
      errors.inc();
      log.debug('rate limiter unavailable, letting the request through', { err });
      return undefined;
    }
  }

  return async (req, res, next) => {
    const { type, key } = clientKey(req, res);
    const points = clients.limitOf(key) ?? options.points;
    // A limit of 0 blocks the client outright: nothing to count.
    const own =
      points === 0 ? { over: true, state: new RateLimiterRes(0, windowSeconds * 1000, 1) } : await take(points, key);
    if (own) {
      const resetSeconds = setHeaders(res, points, own.state);
      if (own.over) {
        // Once per client and window, not once per request: the log names who, at a bounded volume.
        // Metrics carry only the key type: a label per client would be a series per client.
        if (points > 0 && own.state.consumedPoints === points + 1)
          log.warn('client over its rate limit', { client: key, key_type: type, limit: points, windowSeconds });
        res.set('Retry-After', resetSeconds);
        limited.inc({ key_type: type, scope: 'client' });
        throw new AppError(429, 'RATE_LIMITED', `too many requests: at most ${points} per ${windowSeconds} s`);
      }
    }
    const route = (req.route as { path?: string } | undefined)?.path ?? '';
    const budget = options.routeBudgets?.[route];
    const shared = budget === undefined ? undefined : await take(budget, `route:${route}`);
    if (budget !== undefined && shared?.over) {
      if (shared.state.consumedPoints === budget + 1) log.warn('route budget spent', { route, budget, windowSeconds });
      res.set('Retry-After', String(Math.max(1, Math.ceil(shared.state.msBeforeNext / 1000))));
      limited.inc({ key_type: type, scope: 'route' });
      throw new AppError(429, 'RATE_LIMITED', `too many requests on ${route} from all clients: try again shortly`);
    }
    next();
  };
}
