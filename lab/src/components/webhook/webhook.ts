/**
 * The lab's Alertmanager receiver: every page Alertmanager delivers (webhook payload version 4)
 * is appended to a JSON-lines file, so `lab pages` and the grader can see what fired and when.
 *   POST /alerts   Alertmanager's webhook    GET /pages    every page received, oldest first
 *   GET /health/ready                        GET /metrics  lab_pages_received_total, lab_exercise_*
 * Built on the kit like a service (config, JSON logs, prom-client registry, /metrics, graceful
 * shutdown); started as `node lab/dist/components/webhook/webhook.js` with HOST, PORT and PAGES_FILE.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  AppError,
  commonEnv,
  createLogger,
  createRegistry,
  createServiceApp,
  finishApp,
  loadConfig,
  parse,
  port,
  prom,
  runService,
  serve,
  type Logger,
  type Registry,
} from '@shopnow/kit';
import type { Express } from 'express';
import { z } from 'zod';
import type { Page } from '../../core/actions/pages';
import { LAB_PROCESSES } from '../../core/topology';
import { registerExerciseMetrics } from './exercise-metrics';

/** The fields of Alertmanager's webhook payload (version 4) that a page keeps. */
const webhookPayload = z.object({
  receiver: z.string(),
  alerts: z.array(
    z.object({
      status: z.string(),
      labels: z.record(z.string(), z.string()),
      annotations: z.record(z.string(), z.string()).optional(),
      startsAt: z.string(),
      endsAt: z.string(),
      fingerprint: z.string().optional(),
    }),
  ),
});

export function readPages(file: string): Page[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Page);
}

/**
 * Why the pages file cannot be written, or undefined when it can. In the full stack the file sits
 * in a bind mount (.lab/), owned by whoever created it on the host: a page must not be lost to a
 * crash there, so the problem is named instead (readiness and the alert's answer, both 503, which
 * Alertmanager retries).
 */
export function pagesFileProblem(pagesFile: string): string | undefined {
  try {
    fs.mkdirSync(path.dirname(pagesFile), { recursive: true });
    fs.accessSync(fs.existsSync(pagesFile) ? pagesFile : path.dirname(pagesFile), fs.constants.W_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    return `cannot write ${pagesFile} (${code}) as uid ${process.getuid?.()}: make ${path.dirname(pagesFile)} writable by that user (\`lab up\` runs the webhook as the owner of .lab/)`;
  }
}

/** A 503 naming the problem (Alertmanager retries it) while the pages file cannot be written. */
function assertWritable(pagesFile: string): void {
  const problem = pagesFileProblem(pagesFile);
  if (problem) throw new AppError(503, 'UNAVAILABLE', problem);
}

/** The exercises' state sits beside the pages (both in .lab/): its times are exported as metrics too. */
export function createWebhook(
  pagesFile: string,
  {
    exercisesFile = path.join(path.dirname(pagesFile), 'exercises.json'),
    log = createLogger('lab-webhook'),
    registry = createRegistry('lab-webhook', '1.0.0'),
  }: { exercisesFile?: string; log?: Logger; registry?: Registry } = {},
): Express {
  const problem = pagesFileProblem(pagesFile);
  if (problem) log.error(problem);
  const received = new prom.Counter({
    name: 'lab_pages_received_total',
    help: 'Alerts Alertmanager delivered to the lab webhook.',
    labelNames: ['alertname', 'severity', 'status'],
    registers: [registry],
  });
  registerExerciseMetrics(registry, exercisesFile);

  // The lab's own process, not part of the system under study: no RED metrics of its own.
  const app = createServiceApp({
    log,
    registry,
    metrics: false,
    bodyLimit: '1mb',
    checks: { pages: async () => assertWritable(pagesFile) },
  });
  app.get('/pages', (_req, res) => {
    res.json(readPages(pagesFile));
  });
  app.post('/alerts', (req, res) => {
    const payload = parse(webhookPayload, req.body);
    assertWritable(pagesFile);
    const receivedAt = new Date().toISOString();
    const pages = payload.alerts.map((alert): Page => ({
      receivedAt,
      receiver: payload.receiver,
      status: alert.status,
      alertname: alert.labels.alertname ?? '',
      severity: alert.labels.severity ?? '',
      labels: alert.labels,
      annotations: alert.annotations ?? {},
      startsAt: alert.startsAt,
      endsAt: alert.endsAt,
      fingerprint: alert.fingerprint,
    }));
    try {
      fs.appendFileSync(pagesFile, pages.map((page) => `${JSON.stringify(page)}\n`).join(''));
    } catch (err) {
      throw new AppError(503, 'UNAVAILABLE', `cannot append to ${pagesFile}: ${(err as Error).message}`);
    }
    for (const { alertname, severity, status } of pages) received.inc({ alertname, severity, status });
    res.json({ recorded: pages.length });
  });
  return finishApp(app, log);
}

if (require.main === module) {
  runService('lab-webhook', async () => {
    const config = loadConfig(
      commonEnv.extend({
        PORT: port.default(LAB_PROCESSES.webhook.port),
        PAGES_FILE: z.string().default(path.resolve('.lab/pages.jsonl')),
      }),
    );
    const log = createLogger('lab-webhook', config.LOG_LEVEL);
    const registry = createRegistry('lab-webhook', config.SERVICE_VERSION);
    await serve(createWebhook(config.PAGES_FILE, { log, registry }), {
      port: config.PORT,
      host: config.HOST,
      log,
      timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    });
  });
}
