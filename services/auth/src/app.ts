import {
  mysqlCheck,
  AppError,
  createServiceApp,
  finishApp,
  notFound,
  parse,
  prom,
  requireCaller,
  type FaultWiring,
  type Logger,
  type Registry,
} from '@shopnow/kit';
import { type Pool } from '@shopnow/kit/mysql';
import type { Express } from 'express';
import { z } from 'zod';
import { findUserById } from './db';
import { issueToken, type TokenSettings } from './tokens';
import { authenticate, register, toPublic } from './users';

export interface Deps extends FaultWiring {
  log: Logger;
  registry: Registry;
  pool: Pool;
  tokens: TokenSettings;
}

const email = z.string().trim().toLowerCase().max(254).pipe(z.email());

const registration = z.strictObject({
  email,
  password: z.string().min(8).max(128),
  name: z.string().trim().min(1).max(100),
});

// No minimum length here: a login is checked against the stored hash, not against today's policy.
const credentials = z.strictObject({ email, password: z.string().min(1).max(128) });

export function createApp({ log, registry, pool, tokens, ...wiring }: Deps): Express {
  const logins = new prom.Counter({
    name: 'auth_logins_total',
    help: 'Login attempts by outcome (success, or failure for a wrong email or password).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of ['success', 'failure']) logins.inc({ outcome }, 0);
  const registrations = new prom.Counter({
    name: 'auth_registrations_total',
    help: 'Accounts created through POST /auth/register.',
    registers: [registry],
  });

  const app = createServiceApp({ log, registry, checks: { mysql: mysqlCheck(pool) }, ...wiring });

  app.post('/auth/register', async (req, res) => {
    const input = parse(registration, req.body);
    const user = await register(pool, input);
    registrations.inc();
    log.info('user registered', { userId: user.id });
    res.status(201).json({ user });
  });

  app.post('/auth/login', async (req, res) => {
    const { email, password } = parse(credentials, req.body);
    const user = await authenticate(pool, email, password);
    logins.inc({ outcome: user ? 'success' : 'failure' });
    // One message whichever was wrong: the API must not tell which emails have accounts.
    if (!user) throw new AppError(401, 'INVALID_CREDENTIALS', 'invalid email or password');
    const token = await issueToken(user, tokens);
    log.info('user logged in', { userId: user.id });
    res.json({ token, tokenType: 'Bearer', expiresIn: tokens.ttlSeconds, user });
  });

  app.get('/auth/me', async (req, res) => {
    const { userId } = requireCaller(req);
    const user = await findUserById(pool, userId);
    if (!user) throw notFound('user');
    res.json({ user: toPublic(user) });
  });

  return finishApp(app, log);
}
