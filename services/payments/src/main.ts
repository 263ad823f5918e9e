// payments owns the `payments` schema and talks to MySQL and a simulated card provider. It teaches
// idempotency keys (a retried charge is replayed, never charged twice), timeouts and failure
// handling around a slow or declining dependency.
import { createFaults, createLogger, createRegistry, loadConfig, runService, serve } from '@shopnow/kit';
import { openDatabase } from '@shopnow/kit/mysql';
import path from 'node:path';
import { createApp } from './app';
import { paymentsEnv } from './config';

runService('payments', async () => {
  const config = loadConfig(paymentsEnv);
  const log = createLogger('payments', config.LOG_LEVEL);
  const registry = createRegistry('payments', config.SERVICE_VERSION);
  const faults = createFaults('payments');
  const migrations = path.join(__dirname, '..', 'migrations');
  const pool = await openDatabase(config, { name: 'payments', migrations, registry, faults, log });
  const app = createApp({
    log,
    registry,
    pool,
    faults,
    labToken: config.LAB_TOKEN,
    release: { version: config.SERVICE_VERSION, defectShare: config.RELEASE_DEFECT_SHARE },
    provider: { latencyMs: config.PROVIDER_LATENCY_MS, declineRate: config.PROVIDER_DECLINE_RATE },
  });
  await serve(app, {
    port: config.PORT,
    host: config.HOST,
    log,
    closers: [() => pool.end()],
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
});
