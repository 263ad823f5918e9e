import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { AppError, notFound } from '../errors';
import { isFaultName } from './catalogue';
import type { Faults } from './engine';

export const LAB_TOKEN_HEADER = 'x-lab-token';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Only the lab, holding LAB_TOKEN from .env, may switch faults; without a configured token the admin API is off. */
export function requireLabToken(labToken: string | undefined): RequestHandler {
  return (req, _res, next) => {
    if (!labToken) throw notFound('admin API');
    const given = req.get(LAB_TOKEN_HEADER) ?? '';
    if (!timingSafeEqual(digest(given), digest(labToken)))
      throw new AppError(401, 'UNAUTHORIZED', 'a valid lab token is required');
    next();
  };
}

/**
 * The fault control plane of one service instance: GET lists the active faults, PUT switches one
 * on with its options, DELETE switches one (or all) off. It answers over plain HTTP on the service
 * port, so it keeps working when Redis or RabbitMQ is the broken part. It writes no log line: the
 * control plane is not part of the shop, and a line naming the fault would hand an exercise's
 * answer to whoever reads the logs.
 */
export function faultAdmin(faults: Faults, labToken: string | undefined): Router {
  const router = Router();
  router.use(requireLabToken(labToken));
  router.get('/faults', (_req, res) => {
    res.json({ service: faults.service, faults: faults.list() });
  });
  router.put('/faults/:name', (req, res) => {
    const { name } = req.params;
    if (!isFaultName(name)) throw notFound(`fault ${name}`);
    try {
      res.json({ fault: faults.set(name, req.body) });
    } catch (err) {
      if (err instanceof z.ZodError) throw new AppError(400, 'INVALID_FAULT_OPTIONS', z.prettifyError(err));
      if (err instanceof RangeError) throw new AppError(400, 'FAULT_NOT_APPLICABLE', err.message);
      throw err;
    }
  });
  router.delete('/faults/:name', (req, res) => {
    const { name } = req.params;
    if (!isFaultName(name)) throw notFound(`fault ${name}`);
    res.json({ cleared: faults.clear(name) });
  });
  router.delete('/faults', (_req, res) => {
    faults.clearAll();
    res.json({ cleared: true });
  });
  return router;
}
