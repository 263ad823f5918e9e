import { AppError, createServiceApp, finishApp, type FaultWiring, type Logger, type Registry } from '@shopnow/kit';
import { type Redis } from '@shopnow/kit/redis';
import type { Express, RequestHandler } from 'express';
import { authenticate, createVerifier, type JwtSettings } from './auth';
import { clientLimits } from './client-limits';
import { createProxy, type ProxySettings } from './proxy';
import { rateLimit, type RateLimitSettings } from './rate-limit';
import { DEFAULT_DRAIN, drainBeforeError, drainUnless, type DrainSettings } from './request-body';
import { ROUTES } from './routes';
import { createUpstreams, type HealthCheckSettings, type UpstreamConfig } from './upstreams';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** TRACE, CONNECT and invented methods are refused at the edge, before any credential is looked at. */
const knownMethod: RequestHandler = (req, res, next) => {
  if (METHODS.has(req.method)) return next();
  res.setHeader('allow', [...METHODS].join(', '));
  throw new AppError(405, 'METHOD_NOT_ALLOWED', `method ${req.method} is not allowed`);
};

export interface GatewayDeps extends FaultWiring {
  log: Logger;
  registry: Registry;
  redis: Redis;
  jwt: JwtSettings;
  rateLimit: RateLimitSettings;
  upstreams: UpstreamConfig[];
  health: HealthCheckSettings;
  proxy: ProxySettings;
  /** How much of a body the gateway reads and drops before answering a request itself (request-body.ts). */
  drain?: DrainSettings;
}

export interface Gateway {
  app: Express;
  /** Stops the health checks and the circuit breakers' timers, and closes the upstream connections. */
  close(): Promise<void>;
}

/**
 * Every request to /api goes through the same steps, in this order: the route table picks the
 * route (or 404), the JWT is checked, the client's rate limit is taken, then the proxy forwards it.
 */
export function createApp(deps: GatewayDeps): Gateway {
  const { log, registry, faults, labToken, release } = deps;
  // No readiness checks on purpose: with Redis away the rate limiter fails open, and with an
  // upstream away the gateway answers with its own JSON errors. Taking the only entry point out of
  // rotation would turn those clear answers into refused connections.
  // Bodies are not parsed: the proxy forwards them byte for byte (and enforces their size).
  // Whatever the gateway answers itself waits for the request's body first (request-body.ts): the
  // plumbing here, /api/* below, and /admin reads its small JSON bodies itself.
  const drain = deps.drain ?? DEFAULT_DRAIN;
  const forwardedOrAdmin = (req: { path: string }) => /^\/(api|admin)/i.test(req.path);
  const app = createServiceApp({
    log,
    registry,
    bodyLimit: false,
    faults,
    labToken,
    release,
    first: [drainUnless(drain, forwardedOrAdmin)],
  });
  const upstreams = createUpstreams(deps.upstreams, { health: deps.health, registry, log });
  const proxy = createProxy({ ...deps.proxy, upstreams, registry, log, faults });
  const verify = createVerifier(deps.jwt);
  const clients = clientLimits(labToken, log);
  const limit = rateLimit({ ...deps.rateLimit, redis: deps.redis, registry, log, clients });
  // Beside the fault API, behind the same lab token: one client's limit changed at runtime.
  app.use('/admin/rate-limits', clients.admin);

  // Public on purpose: learners watch replicas leave and rejoin the rotation here.
  app.get('/gateway/upstreams', (_req, res) => {
    res.json({
      upstreams: upstreams.all().map(({ name, replicas }) => ({
        name,
        replicas: replicas.map(({ url, instance, healthy, consecutiveFailures }) => ({
          url,
          instance,
          healthy,
          consecutiveFailures,
        })),
        circuit: proxy.circuitState(name),
      })),
    });
  });

  for (const route of ROUTES) {
    app.all(route.path, knownMethod, authenticate(verify, route), limit, proxy.forward(route.upstream));
  }
  // No route took it (the 404 follows), or one refused it: the body is read before the answer.
  app.use(drainUnless(drain), drainBeforeError(drain));

  return {
    app: finishApp(app, log),
    async close() {
      await upstreams.close();
      await proxy.close();
    },
  };
}
