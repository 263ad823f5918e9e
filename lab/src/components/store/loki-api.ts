/**
 * Loki's HTTP query API: /loki/api/v1/query_range, /query, /labels, /label/{name}/values, with
 * Loki's parameters (start/end as nanoseconds, seconds or RFC3339; limit; direction; step) and
 * answers {status, data: {resultType: streams|matrix|vector, result, stats}}. Errors are a
 * 400 with the message as plain text, as Loki writes them (http.Error).
 */
import express, { type Request, type Response } from 'express';
import type { DatabaseSync } from 'node:sqlite';
import { parsePromDuration } from './durations';
import { LogQLError, parseLogQL } from './logql';
import { evaluateMetric, selectEntries, streamLabels, type Entry } from './loki-eval';

const MAX_ENTRIES = 5000; // Loki's max_entries_limit_per_query default
const MAX_POINTS = 11_000; // Loki's maximum resolution per series

/** Loki's parseTimestamp: "1.5" seconds, <= 10 digits seconds, else nanoseconds, else RFC3339. */
function timestampUs(raw: string | undefined, fallbackUs: number, name: string): number {
  if (!raw) return fallbackUs;
  if (raw.includes('.') && !Number.isNaN(Number(raw))) return Math.round(Number(raw) * 1e6);
  if (/^\d+$/.test(raw)) return raw.length <= 10 ? Number(raw) * 1e6 : Number(BigInt(raw) / 1000n);
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw new LogQLError(`invalid ${name}: cannot parse "${raw}" to a valid timestamp`);
  return ms * 1000;
}

function stepUs(raw: string | undefined, startUs: number, endUs: number): number {
  if (!raw) return Math.max(Math.floor((endUs - startUs) / 1e6 / 250), 1) * 1e6;
  const seconds = Number(raw);
  const us = Number.isNaN(seconds) ? parsePromDuration(raw) : seconds * 1e6;
  if (!us || us <= 0)
    throw new LogQLError('zero or negative query resolution step widths are not accepted. Try a positive integer');
  return us;
}

const q = (req: Request, name: string) =>
  typeof req.query[name] === 'string' ? (req.query[name] as string) : undefined;
const nanos = (us: number) => `${BigInt(Math.round(us)) * 1000n}`;

function streams(entries: Entry[]) {
  const byLabels = new Map<string, { stream: Record<string, string>; values: [string, string][] }>();
  for (const e of entries) {
    const key = JSON.stringify(Object.entries(e.labels).sort());
    const stream = byLabels.get(key) ?? { stream: e.labels, values: [] };
    stream.values.push([nanos(e.timeUs), e.line]);
    byLabels.set(key, stream);
  }
  return [...byLabels.values()];
}

const stats = (started: number, entries: number) => ({
  summary: { execTime: (performance.now() - started) / 1000, totalEntriesReturned: entries },
});

export function lokiRouter(db: DatabaseSync, observe: (endpoint: string, seconds: number) => void): express.Router {
  const router = express.Router();
  const handle =
    (endpoint: string, handler: (req: Request, res: Response, started: number) => void) =>
    (req: Request, res: Response) => {
      const started = performance.now();
      try {
        handler(req, res, started);
      } catch (error) {
        if (!(error instanceof LogQLError)) throw error;
        res.status(400).type('text/plain').send(error.message);
      } finally {
        observe(endpoint, (performance.now() - started) / 1000);
      }
    };
  const queryOf = (req: Request) => {
    const query = q(req, 'query');
    if (!query) throw new LogQLError('query parameter is required');
    return parseLogQL(query);
  };

  router.get(
    '/loki/api/v1/query_range',
    handle('query_range', (req, res, started) => {
      const nowUs = Date.now() * 1000;
      const endUs = timestampUs(q(req, 'end'), nowUs, 'end');
      const startUs = timestampUs(q(req, 'start'), endUs - 3600e6, 'start');
      if (endUs < startUs) throw new LogQLError('end timestamp must not be before or equal to start time');
      const parsed = queryOf(req);
      if (parsed.type === 'metric') {
        const step = stepUs(q(req, 'step'), startUs, endUs);
        if ((endUs - startUs) / step > MAX_POINTS)
          throw new LogQLError(
            `exceeded maximum resolution of ${MAX_POINTS} points per timeseries. Try increasing the value of the step parameter`,
          );
        const steps: number[] = [];
        for (let t = startUs; t <= endUs; t += step) steps.push(t);
        const series = evaluateMetric(db, parsed.metric, steps);
        const result = series.map((s) => ({ metric: s.metric, values: s.points.map(([t, v]) => [t, String(v)]) }));
        return void res.json({ status: 'success', data: { resultType: 'matrix', result, stats: stats(started, 0) } });
      }
      const limit = Number(q(req, 'limit') ?? 100);
      if (!Number.isInteger(limit) || limit <= 0) throw new LogQLError('limit must be a positive value');
      if (limit > MAX_ENTRIES)
        throw new LogQLError(
          `max entries limit per query exceeded, limit > max_entries_limit_per_query (${limit} > ${MAX_ENTRIES})`,
        );
      const forward = q(req, 'direction') === 'forward';
      const entries: Entry[] = [];
      for (const entry of selectEntries(db, parsed.log, { startUs, endUs, forward })) {
        entries.push(entry);
        if (entries.length >= limit) break;
      }
      res.json({
        status: 'success',
        data: { resultType: 'streams', result: streams(entries), stats: stats(started, entries.length) },
      });
    }),
  );

  router.get(
    '/loki/api/v1/query',
    handle('query', (req, res, started) => {
      const timeUs = timestampUs(q(req, 'time'), Date.now() * 1000, 'time');
      const parsed = queryOf(req);
      if (parsed.type === 'log')
        throw new LogQLError(
          'log queries are not supported as an instant query type, please change your query to a range query type',
        );
      const result = evaluateMetric(db, parsed.metric, [timeUs]).map((s) => ({
        metric: s.metric,
        value: [s.points[0][0], String(s.points[0][1])],
      }));
      res.json({ status: 'success', data: { resultType: 'vector', result, stats: stats(started, 0) } });
    }),
  );

  const streamsIn = (req: Request) => {
    const nowUs = Date.now() * 1000;
    const endUs = timestampUs(q(req, 'end'), nowUs, 'end');
    const startUs = timestampUs(q(req, 'start'), endUs - 6 * 3600e6, 'start');
    const sql = 'SELECT DISTINCT service, instance FROM logs WHERE time_us >= ? AND time_us < ?';
    return (db.prepare(sql).all(startUs, endUs) as { service: string; instance: string }[]).map(streamLabels);
  };
  router.get(
    '/loki/api/v1/labels',
    handle('labels', (req, res) => {
      const names = new Set(streamsIn(req).flatMap((labels) => Object.keys(labels)));
      res.json({ status: 'success', data: [...names].sort() });
    }),
  );
  router.get(
    '/loki/api/v1/label/:name/values',
    handle('label_values', (req, res) => {
      const name = String(req.params.name);
      const values = new Set(streamsIn(req).flatMap((labels) => (labels[name] ? [labels[name]] : [])));
      res.json({ status: 'success', data: [...values].sort() });
    }),
  );
  return router;
}
