/**
 * The store's two HTTP faces, built but never listening (main.ts listens): the OTLP receiver
 * (what the collector's otlp receiver is in the Docker stack) and the query API (Jaeger's and
 * Loki's paths on one port). Both answer /health/live, /health/ready and /metrics.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { DatabaseSync } from 'node:sqlite';
import { jaegerRouter } from './jaeger-api';
import { lokiRouter } from './loki-api';
import type { StoreMetrics } from './metrics';
import { otlpRouter, type Sink } from './receiver';

function common(metrics: StoreMetrics, ready: () => boolean): express.Router {
  const router = express.Router();
  router.get('/health/live', (_req, res) => void res.json({ status: 'ok' }));
  router.get(
    '/health/ready',
    (_req, res) => void res.status(ready() ? 200 : 503).json({ status: ready() ? 'ok' : 'starting' }),
  );
  router.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return router;
}

const lastResort = (error: Error, _req: Request, res: Response, next: NextFunction) => {
  if (res.headersSent) return next(error);
  res.status(500).json({ error: error.message });
};

export function createOtlpApp(deps: { sink: Sink; metrics: StoreMetrics; maxBodyBytes: number; ready: () => boolean }) {
  const app = express();
  app.disable('x-powered-by');
  app.use(common(deps.metrics, deps.ready));
  app.use(otlpRouter(deps.sink, deps.metrics, deps.maxBodyBytes));
  app.use(
    (_req, res) =>
      void res.status(404).json({ code: 5, message: 'not found: the receiver serves POST /v1/traces and /v1/logs' }),
  );
  return app;
}

export function createQueryApp(deps: { db: DatabaseSync; metrics: StoreMetrics; ready: () => boolean }) {
  const app = express();
  app.disable('x-powered-by');
  const observe = (api: string) => (endpoint: string, seconds: number) =>
    deps.metrics.queryDuration.observe({ api, endpoint }, seconds);
  app.use(common(deps.metrics, deps.ready));
  app.use(jaegerRouter(deps.db, observe('jaeger')));
  app.use(lokiRouter(deps.db, observe('loki')));
  app.use((_req, res) => void res.status(404).json({ error: 'not found' }));
  app.use(lastResort);
  return app;
}
