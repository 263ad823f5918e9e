import express, { type Express, type RequestHandler } from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorMiddleware, notFoundHandler } from './errors';
import { live, ready, type Check } from './health';
import { createLogger, type Logger } from './logger';
import { httpMetrics, metricsHandler, routeTemplate, type Registry } from './metrics';
import { faultAdmin, requestFaults, type Faults, type Release } from './faults';
import { redMetricsEnabled, shutdownTelemetry } from './telemetry-handle';

/** What main.ts hands createApp for the fault engine; all optional, so tests can build apps without it. */
export interface FaultWiring {
  /** This instance's faults; with a lab token they are switched at /admin/faults. */
  faults?: Faults;
  labToken?: string;
  /** The build this process runs, read once from SERVICE_VERSION and RELEASE_DEFECT_SHARE. */
  release?: Release;
}

export interface ServiceBase extends FaultWiring {
  log: Logger;
  registry: Registry;
  /** Readiness checks of this service's own dependencies (MySQL, Redis, RabbitMQ...). */
  checks?: Record<string, Check>;
  /** Largest accepted JSON body; `false` leaves bodies unread (the gateway forwards them as they came). */
  bodyLimit?: string | false;
  /** RED metrics for every request; off only to measure what they cost (METRICS_ENABLED=false). */
  metrics?: boolean;
  /** Handlers that see every request before any route, the plumbing's too (the gateway drains bodies here). */
  first?: RequestHandler[];
}

/**
 * The part every service's createApp() shares: JSON bodies, RED metrics, /metrics and the health
 * endpoints. The service adds its routes, then calls finishApp() to register 404 and errors last.
 */
export function createServiceApp({
  log,
  registry,
  checks = {},
  bodyLimit = '64kb',
  faults,
  labToken,
  release,
  metrics = redMetricsEnabled(),
  first = [],
}: ServiceBase): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('shuttingDown', false);
  for (const handler of first) app.use(handler);
  app.get('/metrics', metricsHandler(registry));
  app.get('/health/live', live);
  app.get(
    '/health/ready',
    ready(checks, () => app.get('shuttingDown') === true),
  );
  if (faults) app.use('/admin', express.json({ limit: '8kb' }), faultAdmin(faults, labToken));
  if (metrics) app.use(httpMetrics(registry, faults));
  app.use(accessLog(log));
  if (bodyLimit !== false) app.use(express.json({ limit: bodyLimit, strict: true }));
  if (faults) app.locals.requestFaults = requestFaults(faults, log, release);
  // Routes registered so far are plumbing (metrics, health); faults never touch them.
  app.locals.plumbingLayers = app.router.stack.length;
  app.locals.log = log;
  return app;
}

/**
 * One line per request, carrying the trace id like every line in a request: when the answer has
 * gone out, or when the client hung up first (a caller's timeout), which leaves no answer to log.
 */
function accessLog(log: Logger): RequestHandler {
  return (req, res, next) => {
    const start = performance.now();
    res.once('close', () => {
      const fields = {
        method: req.method,
        route: routeTemplate(req),
        duration_ms: Math.round((performance.now() - start) * 10) / 10,
      };
      if (res.writableFinished) log.info('request completed', { ...fields, status: res.statusCode });
      else log.warn('client closed the connection before the answer', fields);
    });
    next();
  };
}

export function finishApp(app: Express, log: Logger): Express {
  // Request faults run first in every route, once it has matched: their errors and delays are
  // then counted and traced under the route template, like a real bug in that handler would be.
  const faults = app.locals.requestFaults as RequestHandler | undefined;
  if (faults) {
    const layers = app.router.stack as Array<{ route?: { stack: unknown[]; all: (fn: RequestHandler) => void } }>;
    for (const layer of layers.slice(Number(app.locals.plumbingLayers))) {
      if (!layer.route) continue;
      const handlers = layer.route.stack.splice(0);
      layer.route.all(faults);
      layer.route.stack.push(...handlers);
    }
  }
  app.use(notFoundHandler);
  app.use(errorMiddleware(log));
  return app;
}

export interface RunningServer {
  server: http.Server;
  port: number;
  /** Stops accepting, drains in-flight requests, then runs the closers in order. */
  stop: () => Promise<void>;
}

/**
 * Listens (on loopback unless HOST says otherwise) and wires graceful shutdown on SIGTERM/SIGINT:
 * readiness turns false, the server stops accepting and drains, then pools, channels and the
 * telemetry exporters are closed. If that takes longer than `timeoutMs` the process exits anyway.
 */
export async function serve(
  app: Express,
  options: {
    port: number;
    host: string;
    log: Logger;
    closers?: Array<() => Promise<unknown>>;
    timeoutMs?: number;
    handleSignals?: boolean;
  },
): Promise<RunningServer> {
  const { log, closers = [], timeoutMs = 10_000, handleSignals = true } = options;
  const server = http.createServer(app);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info('listening', { host: options.host, port });

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      app.set('shuttingDown', true);
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive connections become idle as their last response goes out; close them as they do.
      const sweep = setInterval(() => server.closeIdleConnections(), 100);
      await drained;
      clearInterval(sweep);
      for (const close of closers) {
        await close().catch((err: unknown) => log.warn('error while closing', { err }));
      }
    })();
    return stopping;
  };

  if (handleSignals) {
    const onSignal = (signal: NodeJS.Signals) => {
      log.info('shutting down', { signal });
      const deadline = setTimeout(() => {
        log.error('shutdown took too long, exiting', { timeoutMs });
        process.exit(1);
      }, timeoutMs);
      deadline.unref();
      void stop()
        .then(() => shutdownTelemetry())
        .then(() => process.exit(0));
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  return { server, port, stop };
}

/**
 * The last line of every main.ts: runs the service's start-up, and when it fails (bad config, a
 * migration error) logs why as JSON and exits 1, so the supervisor or Docker starts it again.
 */
export function runService(name: string, start: () => Promise<unknown>): void {
  start().catch((err: unknown) => {
    createLogger(name).error(`${name} failed to start`, { err });
    process.exit(1);
  });
}
