/**
 * The lab's Alertmanager receiver: every page Alertmanager delivers (webhook payload version 4)
 * is appended to a JSON-lines file, so `lab pages` and the grader can see what fired and when.
 *   POST /alerts   Alertmanager's webhook    GET /pages    every page received, oldest first
 *   GET /health/ready                        GET /metrics  lab_pages_received_total, lab_exercise_*
 * Started as `node lab/dist/components/webhook/webhook.js` with HOST, PORT and PAGES_FILE.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Page } from '../../core/actions/pages';
import { exerciseMetrics } from './exercise-metrics';

interface WebhookAlert {
  status: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint?: string;
}

interface WebhookPayload {
  version: string;
  receiver: string;
  alerts: WebhookAlert[];
}

function isPayload(body: unknown): body is WebhookPayload {
  const p = body as WebhookPayload;
  return typeof p === 'object' && p !== null && Array.isArray(p.alerts) && p.alerts.every((a) => a && a.labels);
}

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

const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** The exercises' state sits beside the pages (both in .lab/): its times are exported as metrics too. */
export function createWebhook(
  pagesFile: string,
  exercisesFile = path.join(path.dirname(pagesFile), 'exercises.json'),
): http.Server {
  const problem = pagesFileProblem(pagesFile);
  if (problem) console.error(problem);
  const received = new Map<string, number>();

  const metrics = () => {
    const lines = [
      '# HELP lab_pages_received_total Alerts Alertmanager delivered to the lab webhook.',
      '# TYPE lab_pages_received_total counter',
    ];
    for (const [labels, count] of received) lines.push(`lab_pages_received_total{${labels}} ${count}`);
    return `${lines.join('\n')}\n`;
  };

  const record = (payload: WebhookPayload) => {
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
    fs.appendFileSync(pagesFile, pages.map((page) => `${JSON.stringify(page)}\n`).join(''));
    for (const page of pages) {
      const key = (['alertname', 'severity', 'status'] as const)
        .map((name) => `${name}="${escapeLabel(page[name])}"`)
        .join(',');
      received.set(key, (received.get(key) ?? 0) + 1);
    }
    return pages.length;
  };

  return http.createServer((req, res) => {
    const send = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const route = `${req.method} ${(req.url ?? '').split('?')[0]}`;
    if (route === 'GET /health/live') return send(200, { status: 'ok' });
    if (route === 'GET /health/ready') {
      const problem = pagesFileProblem(pagesFile);
      return problem ? send(503, { status: 'unavailable', error: problem }) : send(200, { status: 'ok' });
    }
    if (route === 'GET /pages') return send(200, readPages(pagesFile));
    if (route === 'GET /metrics')
      return send(200, metrics() + exerciseMetrics(exercisesFile), 'text/plain; version=0.0.4; charset=utf-8');
    if (route !== 'POST /alerts') return send(404, { error: 'not found' });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(400, { error: 'the body is not JSON' });
      }
      if (!isPayload(body)) return send(400, { error: 'not an Alertmanager webhook payload (alerts[] missing)' });
      let recorded = 0;
      let problem = pagesFileProblem(pagesFile);
      try {
        if (!problem) recorded = record(body);
      } catch (err) {
        problem = `cannot append to ${pagesFile}: ${(err as Error).message}`;
      }
      if (problem) {
        console.error(problem);
        return send(503, { error: problem });
      }
      send(200, { recorded });
    });
  });
}

if (require.main === module) {
  const file = process.env.PAGES_FILE ?? path.resolve('.lab/pages.jsonl');
  const server = createWebhook(file);
  server.listen(Number(process.env.PORT ?? 9099), process.env.HOST ?? '127.0.0.1');
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
