import { AppError, createServiceApp, finishApp, parse, type Logger, type Registry } from '@shopnow/kit';
import type { Express } from 'express';
import { z } from 'zod';
import { UnknownProfileError, type TrafficGenerator } from './generator';

export interface AppDeps {
  log: Logger;
  registry: Registry;
  generator: TrafficGenerator;
}

const change = z.strictObject({
  running: z.boolean().optional(),
  rate: z.number().min(0).max(500).optional(),
  profile: z.string().min(1).max(100).optional(),
  noisyApiKey: z.string().min(1).max(100).optional(),
});

/** The generator's control API (`lab traffic ...` talks to it) beside its /metrics and health. */
export function createApp({ log, registry, generator }: AppDeps): Express {
  const app = createServiceApp({
    log,
    registry,
    checks: {
      users: async () => {
        if (!generator.ready) throw new Error('still enrolling traffic users (is the gateway up?)');
      },
    },
  });

  app.get('/status', (_req, res) => {
    res.json(generator.status());
  });

  app.post('/control', (req, res) => {
    try {
      res.json(generator.control(parse(change, req.body)));
    } catch (err) {
      if (err instanceof UnknownProfileError) throw new AppError(400, 'UNKNOWN_PROFILE', err.message);
      throw err;
    }
  });

  return finishApp(app, log);
}
