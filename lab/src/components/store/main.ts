/**
 * The lite telemetry store: receives OTLP/HTTP from the services (traces and logs), keeps them in
 * SQLite under .lab/, bounded by age and size, and answers the Jaeger and Loki query APIs, so
 * every client has one code path whether the real Jaeger and Loki or this store answers.
 * Started as `node lab/dist/components/store/main.js`; configured only by the variables below.
 */
import path from 'node:path';
import { z } from 'zod';
import { createOtlpApp, createQueryApp } from './app';
import { createWriter, enforceBounds, openDatabase, rowCount, usedBytes } from './db';
import { createMetrics } from './metrics';

const port = z.coerce.number().int().min(1).max(65535);
const config = z
  .object({
    STORE_OTLP_HOST: z.string().default('127.0.0.1'),
    // 4318 is OTLP/HTTP's port: the SDK's default endpoint reaches the store without settings.
    STORE_OTLP_PORT: port.default(4318),
    STORE_QUERY_HOST: z.string().default('127.0.0.1'),
    // Jaeger's own UI/API port; Loki's /loki/api/v1 paths share it (they cannot collide), so a
    // client needs one base URL. Loki's 3100 stays free for a real Loki.
    STORE_QUERY_PORT: port.default(16686),
    STORE_DB: z.string().default(path.resolve('.lab/store/telemetry.db')),
    STORE_RETENTION_MINUTES: z.coerce.number().positive().default(60),
    STORE_MAX_MB: z.coerce.number().positive().default(256),
    STORE_MAX_BODY_MB: z.coerce.number().positive().default(8),
    STORE_FLUSH_MS: z.coerce.number().int().positive().default(250),
  })
  .parse(process.env);

const db = openDatabase(config.STORE_DB);
const metrics = createMetrics();
// At most ~20k rows (a few tens of MB) wait in memory; past that exporters get a retryable 503.
const writer = createWriter(db, { flushMs: config.STORE_FLUSH_MS, flushRows: 1000, maxQueued: 20_000 });
const bound = () => {
  const evicted = enforceBounds(db, {
    maxAgeUs: config.STORE_RETENTION_MINUTES * 60e6,
    maxBytes: config.STORE_MAX_MB * 1024 * 1024,
    nowUs: Date.now() * 1000,
  });
  for (const [key, count] of Object.entries(evicted)) {
    const [table, reason] = key.split('_');
    if (count > 0) metrics.evictions.inc({ table, reason }, count);
  }
  for (const table of ['spans', 'logs'] as const) metrics.rows.set({ table }, rowCount(db, table));
  metrics.dbBytes.set(usedBytes(db));
};
bound();
// Bounds are checked often enough that a burst cannot overshoot the size limit by much.
const bounds = setInterval(bound, Math.min(10_000, config.STORE_RETENTION_MINUTES * 10_000));

let ready = false;
const otlp = createOtlpApp({
  sink: writer,
  metrics,
  maxBodyBytes: config.STORE_MAX_BODY_MB * 1024 * 1024,
  ready: () => ready,
});
const query = createQueryApp({ db, metrics, ready: () => ready });
const servers = [
  otlp.listen(config.STORE_OTLP_PORT, config.STORE_OTLP_HOST),
  query.listen(config.STORE_QUERY_PORT, config.STORE_QUERY_HOST),
];
Promise.all(servers.map((s) => new Promise((resolve, reject) => s.once('listening', resolve).once('error', reject))))
  .then(() => {
    ready = true;
    console.log(JSON.stringify({ level: 'info', message: 'telemetry store ready', ...config }));
  })
  .catch((error: Error) => {
    console.error(JSON.stringify({ level: 'error', message: `cannot listen: ${error.message}` }));
    process.exit(1);
  });

const stop = () => {
  clearInterval(bounds);
  for (const server of servers) server.close();
  writer.flush();
  db.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
