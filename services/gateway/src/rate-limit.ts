import { createHash } from 'node:crypto';
import { AppError, prom, type Caller, type Logger, type Redis, type Registry } from '@shopnow/kit';
import type { Request, RequestHandler, Response } from 'express';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

export interface RateLimitSettings {
  /** Requests each client may make per window. */
  points: number;
  windowSeconds: number;
  /** Prefix of the Redis keys (tests give each run its own). */
  keyPrefix: string;
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
 * A fixed-window limit per client, counted in Redis so that every gateway replica shares it.
 * When Redis fails the request passes (fail open): the shop staying available matters more than
 * the limit being exact for a while. The kit's Redis client fails at once when Redis is away,
 * so an outage adds no latency; it shows in gateway_rate_limiter_errors_total.
 */
export function rateLimit(
  options: RateLimitSettings & { redis: Redis; registry: Registry; log: Logger },
): RequestHandler {
  const { points, windowSeconds, log } = options;
  const limiter = new RateLimiterRedis({
    storeClient: options.redis,
    points,
    duration: windowSeconds,
    keyPrefix: options.keyPrefix,
    rejectIfRedisNotReady: true,
  });
  const limited = new prom.Counter({
    name: 'gateway_rate_limited_total',
    help: 'Requests refused with 429 because their client was over its rate limit, by what identified the client.',
    labelNames: ['key_type'],
    registers: [options.registry],
  });
  for (const keyType of ['user', 'api_key', 'ip']) limited.inc({ key_type: keyType }, 0);
  const errors = new prom.Counter({
    name: 'gateway_rate_limiter_errors_total',
    help: 'Requests let through unlimited because the rate limiter could not reach Redis (fail open).',
    registers: [options.registry],
  });

  /** Tells every client where it stands; returns the seconds until its window starts again. */
  const setHeaders = (res: Response, state: RateLimiterRes): string => {
    const resetSeconds = String(Math.max(1, Math.ceil(state.msBeforeNext / 1000)));
    res.set('RateLimit-Limit', String(points));
    res.set('RateLimit-Remaining', String(state.remainingPoints));
    res.set('RateLimit-Reset', resetSeconds);
    return resetSeconds;
  };

  return async (req, res, next) => {
    const { type, key } = clientKey(req, res);
    try {
      setHeaders(res, await limiter.consume(key));
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) {
        errors.inc();
        log.debug('rate limiter unavailable, letting the request through', { err });
        return next();
      }
      res.set('Retry-After', setHeaders(res, err));
      limited.inc({ key_type: type });
      throw new AppError(429, 'RATE_LIMITED', `too many requests: at most ${points} per ${windowSeconds} s`);
    }
    next();
  };
}
