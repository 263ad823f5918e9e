// auth owns the `auth` schema (users and their roles) and talks only to MySQL. It teaches
// authentication: passwords hashed with scrypt, JWTs issued here and verified at the gateway,
// and roles that services downstream use for authorization.
import { createFaults, createLogger, createRegistry, loadConfig, runService, serve } from '@shopnow/kit';
import { openDatabase } from '@shopnow/kit/mysql';
import path from 'node:path';
import { createApp } from './app';
import { authEnv } from './config';
import { ensureAdmin } from './users';

runService('auth', async () => {
  const config = loadConfig(authEnv);
  const log = createLogger('auth', config.LOG_LEVEL);
  const registry = createRegistry('auth', config.SERVICE_VERSION);
  const faults = createFaults('auth');
  const migrations = path.join(__dirname, '..', 'migrations');
  const pool = await openDatabase(config, { name: 'auth', migrations, registry, faults, log });
  if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
    await ensureAdmin(pool, { email: config.ADMIN_EMAIL, password: config.ADMIN_PASSWORD });
    log.info('admin account ensured');
  }
  const app = createApp({
    log,
    registry,
    pool,
    faults,
    labToken: config.LAB_TOKEN,
    release: { version: config.SERVICE_VERSION, defectShare: config.RELEASE_DEFECT_SHARE },
    tokens: {
      secret: config.JWT_SECRET,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      ttlSeconds: config.JWT_TTL_SECONDS,
    },
  });
  await serve(app, {
    port: config.PORT,
    host: config.HOST,
    log,
    closers: [() => pool.end()],
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
});
