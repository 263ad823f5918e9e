import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import type { Logger } from './logger';

/** The one error type domain code throws: an HTTP status, a stable code and a message for people. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const badRequest = (message: string, details?: unknown) => new AppError(400, 'BAD_REQUEST', message, details);
export const unauthorized = (message = 'authentication required') => new AppError(401, 'UNAUTHORIZED', message);
export const forbidden = (message = 'not allowed') => new AppError(403, 'FORBIDDEN', message);
export const notFound = (what: string) => new AppError(404, 'NOT_FOUND', `${what} not found`);
export const unavailable = (what: string) => new AppError(503, 'UNAVAILABLE', `${what} is unavailable`);

/** Validates a request part with zod; a failure is a 400 naming every field that is wrong. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, part = 'body'): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = result.error.issues.map((issue) => ({
    field: [part, ...issue.path].join('.'),
    problem: issue.message,
  }));
  throw new AppError(
    400,
    'VALIDATION_FAILED',
    `invalid ${part}: ${fields.map((f) => `${f.field} ${f.problem}`).join('; ')}`,
    fields,
  );
}

// Errors thrown by body-parser carry a `type` and a `status`; they are the client's fault.
const BODY_PARSER_ERRORS: Record<string, [number, string, string]> = {
  'entity.parse.failed': [400, 'INVALID_JSON', 'the request body is not valid JSON'],
  'entity.too.large': [413, 'PAYLOAD_TOO_LARGE', 'the request body is too large'],
  'encoding.unsupported': [415, 'UNSUPPORTED_ENCODING', 'the request body encoding is not supported'],
  'charset.unsupported': [415, 'UNSUPPORTED_CHARSET', 'the request body charset is not supported'],
  'request.aborted': [400, 'REQUEST_ABORTED', 'the request was aborted'],
  'request.size.invalid': [400, 'INVALID_BODY_SIZE', 'the request body size does not match Content-Length'],
};

/**
 * A dependency that cannot be reached (refused, reset, timed out, connection lost, pool closed)
 * is an outage, not a bug: 503, so clients and the gateway know a retry later may work. mysql2,
 * ioredis and node:net all name these in `code`.
 */
const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'POOL_CLOSED',
]);

function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && CONNECTION_ERRORS.has(code)) return unavailable('a dependency');
  const type = (err as { type?: unknown })?.type;
  if (typeof type === 'string' && BODY_PARSER_ERRORS[type]) {
    const [status, code, message] = BODY_PARSER_ERRORS[type];
    return new AppError(status, code, message);
  }
  const status = (err as { status?: unknown })?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new AppError(status, 'BAD_REQUEST', (err as Error).message || 'bad request');
  }
  return new AppError(500, 'INTERNAL', 'internal error');
}

export const notFoundHandler: RequestHandler = (req) => {
  throw new AppError(404, 'ROUTE_NOT_FOUND', `no route for ${req.method} ${req.path}`);
};

/** Registered last: every error becomes {"error":{code,message}}, is logged once and marks the span. */
export function errorMiddleware(log: Logger): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const appError = toAppError(err);
    const span = trace.getActiveSpan();
    if (appError.status >= 500) {
      span?.recordException(err instanceof Error ? err : new Error(String(err)));
      span?.setStatus({ code: SpanStatusCode.ERROR, message: appError.code });
      log.error('request failed', {
        err,
        method: req.method,
        path: req.path,
        status: appError.status,
        code: appError.code,
      });
    } else {
      log.info('request rejected', {
        method: req.method,
        path: req.path,
        status: appError.status,
        code: appError.code,
      });
    }
    const body: { code: string; message: string; details?: unknown } = {
      code: appError.code,
      message: appError.message,
    };
    if (appError.details !== undefined) body.details = appError.details;
    res.status(appError.status).json({ error: body });
  };
}
