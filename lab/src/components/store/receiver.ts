/**
 * OTLP/HTTP receiver: POST /v1/traces and /v1/logs, protobuf or JSON, gzip or not, chunked or
 * not, as the collector receives them. Answers as the OTLP spec says: 200 with a partialSuccess,
 * or 4xx/503 with a google.rpc.Status in the request's own encoding.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { StoreMetrics } from './metrics';
import { LOGS_REQUEST, TRACES_REQUEST, decodeProtobuf, encodeExportResponse, encodeRpcStatus } from './otlp-proto';
import { BadInput, logsFrom, spansFrom, type LogRow, type SpanRow } from './otlp';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
type Encoding = 'protobuf' | 'json';
// google.rpc.Code values the OTLP spec maps HTTP statuses to.
const RPC_CODE: Record<number, number> = { 400: 3, 413: 8, 415: 3, 503: 14 };

class OtlpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

function encodingOf(req: Request): Encoding {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  throw new OtlpError(
    415,
    'content_type',
    `unsupported content type "${type}": use application/x-protobuf or application/json`,
  );
}

function decode(body: Buffer, encoding: Encoding, message: typeof TRACES_REQUEST): unknown {
  try {
    return encoding === 'protobuf' ? decodeProtobuf(message, body) : JSON.parse(strictUtf8.decode(body));
  } catch (error) {
    // Truncated or lying length prefixes, invalid UTF-8, bad JSON, or nesting past the stack.
    throw new OtlpError(400, 'malformed', `cannot decode the ${encoding} body: ${(error as Error).message}`);
  }
}

export interface Sink {
  add(rows: { spans?: SpanRow[]; logs?: LogRow[] }): boolean;
}

export function otlpRouter(sink: Sink, metrics: StoreMetrics, maxBodyBytes: number): express.Router {
  const router = express.Router();
  // body-parser inflates gzip/deflate and applies the limit to the inflated size (gzip bombs).
  router.use(express.raw({ type: () => true, limit: maxBodyBytes, inflate: true }));

  const signals = [
    { path: '/v1/traces', signal: 'spans', message: TRACES_REQUEST, jsonField: 'rejectedSpans' },
    { path: '/v1/logs', signal: 'logs', message: LOGS_REQUEST, jsonField: 'rejectedLogRecords' },
  ] as const;
  for (const { path, signal, message, jsonField } of signals) {
    router.post(path, (req: Request, res: Response) => {
      const encoding = encodingOf(req);
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const payload = decode(body, encoding, message);
      const ids = encoding === 'json' ? 'hex' : 'base64';
      let converted: { rows: SpanRow[] | LogRow[]; rejected: number };
      try {
        converted = signal === 'spans' ? spansFrom(payload, ids) : logsFrom(payload, ids, Date.now() * 1000);
      } catch (error) {
        if (error instanceof BadInput || error instanceof RangeError)
          throw new OtlpError(400, 'malformed', `invalid export request: ${error.message}`);
        throw error;
      }
      const { rows, rejected } = converted;
      const accepted =
        signal === 'spans' ? sink.add({ spans: rows as SpanRow[] }) : sink.add({ logs: rows as LogRow[] });
      if (!accepted) throw new OtlpError(503, 'overloaded', 'the store is flushing a backlog; retry later');
      metrics.received.inc({ signal }, rows.length);
      if (rejected > 0) metrics.rejected.inc({ signal, reason: 'invalid_id' }, rejected);
      const errorMessage = rejected > 0 ? `${rejected} item(s) had a trace or span id of the wrong length` : '';
      if (encoding === 'protobuf')
        res.type('application/x-protobuf').send(encodeExportResponse(rejected, errorMessage));
      else res.json({ partialSuccess: rejected > 0 ? { [jsonField]: String(rejected), errorMessage } : {} });
    });
  }

  router.use((error: Error & { status?: number; type?: string }, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const known =
      error instanceof OtlpError
        ? error
        : new OtlpError(
            error.status && error.status < 500 ? error.status : 500,
            error.type === 'entity.too.large' ? 'too_large' : 'malformed',
            error.message,
          );
    const signal = req.path === '/v1/logs' ? 'logs' : 'spans';
    metrics.rejected.inc({ signal, reason: known.reason });
    const code = RPC_CODE[known.status] ?? 13;
    const isProtobuf = /protobuf/.test(req.headers['content-type'] ?? '');
    if (isProtobuf) res.status(known.status).type('application/x-protobuf').send(encodeRpcStatus(code, known.message));
    else res.status(known.status).json({ code, message: known.message });
  });
  return router;
}
