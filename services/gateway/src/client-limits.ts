import { badRequest, parse, requireLabToken, type Logger } from '@shopnow/kit';
import express, { Router } from 'express';
import { z } from 'zod';

/**
 * Limits given to single clients at runtime, by the name the rate limiter counts them under
 * (`key:<hash>`, `user:<id>`, `ip:<address>`): an operator's brake for one client that floods
 * the shop, without a deploy. 0 blocks the client. They live in this process only: a restart
 * goes back to the configured limits, so a lasting decision belongs in configuration.
 */
export interface ClientLimits {
  limitOf(client: string): number | undefined;
}

const CLIENT = /^(key:[0-9a-f]{16}|user:\d{1,15}|ip:[0-9a-fA-F.:]{2,45})$/;
const limit = z.strictObject({ points: z.int().min(0).max(1_000_000) });

/** The store and its admin API (`/admin/rate-limits`), guarded by the lab token like the fault API. */
export function clientLimits(labToken: string | undefined, log: Logger): ClientLimits & { admin: Router } {
  const limits = new Map<string, number>();
  const admin = Router();
  admin.use(requireLabToken(labToken), express.json({ limit: '1kb' }));
  admin.get('/', (_req, res) => {
    res.json({ clients: Object.fromEntries(limits) });
  });
  admin.put('/clients/:client', (req, res) => {
    const { client } = req.params;
    if (!CLIENT.test(client)) throw badRequest(`${client} names no client: key:<16 hex>, user:<id> or ip:<address>`);
    const { points } = parse(limit, req.body);
    limits.set(client, points);
    log.warn('client limit set', { client, limit: points });
    res.json({ client, points });
  });
  admin.delete('/clients/:client', (req, res) => {
    const removed = limits.delete(req.params.client);
    if (removed) log.warn('client limit removed', { client: req.params.client });
    res.json({ removed });
  });
  admin.delete('/clients', (_req, res) => {
    limits.clear();
    res.json({ removed: true });
  });
  return { limitOf: (client) => limits.get(client), admin };
}
