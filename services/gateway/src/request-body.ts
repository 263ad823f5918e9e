import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { AppError } from '@shopnow/kit';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';

/**
 * Request bodies at the edge. A server that answers before it has read a request's body and then
 * closes the connection leaves unread bytes behind, so the kernel resets the connection; a client
 * still sending often gets that reset instead of the answer (the "TCP reset problem", RFC 9112
 * section 9.6). So whenever the gateway answers a request itself (401, 404, 405, 413, 429...) it
 * first reads what is left of the body and throws it away, up to a bound: a client cannot keep it
 * reading for ever, and past the bound it answers and closes anyway.
 */
export interface DrainSettings {
  /** Bytes read and thrown away at most (a body declared larger is not read at all). */
  maxBytes: number;
  /** How long to wait for the rest of a body at most. */
  maxMs: number;
}

// 16 MiB read at loopback or LAN speed takes milliseconds; 30 s is nginx's lingering_time.
export const DEFAULT_DRAIN: DrainSettings = { maxBytes: 16 * 1024 * 1024, maxMs: 30_000 };

const declaredLength = (req: IncomingMessage) => Number(req.headers['content-length'] ?? 0);

/**
 * Reads the body up to `limit` bytes: a bigger one is refused (413) before it costs memory or a
 * service's time. The request is paused, not destroyed, so that the rest can still be drained
 * before the answer (destroying it would reset the connection at once).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new AppError(413, 'PAYLOAD_TOO_LARGE', `the request body is larger than ${limit} bytes`);
  if (declaredLength(req) > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAborted);
      req.off('close', onAborted);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      stop();
      req.pause();
      reject(tooLarge());
    };
    const onEnd = () => {
      stop();
      resolve(Buffer.concat(chunks));
    };
    // 'close' before 'end': the client went away in the middle of its body.
    const onAborted = () => {
      stop();
      reject(new AppError(400, 'REQUEST_ABORTED', 'the request body could not be read'));
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onAborted);
    req.once('close', onAborted);
  });
}

/** Reads and discards the rest of the body; true once it has all been read, false at a bound. */
export function drainBody(req: IncomingMessage, { maxBytes, maxMs }: DrainSettings): Promise<boolean> {
  if (req.readableEnded) return Promise.resolve(true);
  if (req.destroyed || declaredLength(req) > maxBytes) return Promise.resolve(false);
  return new Promise((resolve) => {
    let read = 0;
    const done = (ended: boolean) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      // The request keeps flowing with no listener: whatever still comes is thrown away.
      resolve(ended);
    };
    const onData = (chunk: Buffer) => {
      read += chunk.length;
      if (read > maxBytes) done(false);
    };
    const onEnd = () => done(true);
    const onClose = () => done(req.readableEnded);
    const timer = setTimeout(() => done(false), maxMs);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
    req.resume();
  });
}

/** Drains; past a bound the connection cannot carry another request, so the answer says it closes. */
async function drained(req: Request, res: Response, settings: DrainSettings): Promise<void> {
  if (!(await drainBody(req, settings)) && !res.headersSent) res.setHeader('connection', 'close');
}

/** Reads the body before what follows answers, unless `readsItself` says a later handler reads it. */
export function drainUnless(
  settings: DrainSettings,
  readsItself: (req: Request) => boolean = () => false,
): RequestHandler {
  return async (req, res, next) => {
    if (!readsItself(req)) await drained(req, res, settings);
    next();
  };
}

/** Before any error is answered (401, 405, 413, 429, 503...), the body it was sent with is read. */
export function drainBeforeError(settings: DrainSettings): ErrorRequestHandler {
  return async (err, req, res, next) => {
    await drained(req, res, settings);
    next(err);
  };
}

// Node's own answers to what it cannot parse (an invented method, headers over 16 KiB...).
const PARSE_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'HEADERS_TOO_LARGE', 'the request headers are too large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'PAYLOAD_TOO_LARGE', 'the chunk extensions are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'REQUEST_TIMEOUT', 'the request took too long to arrive'],
};

/**
 * A request Node cannot parse gets the JSON error every other refusal gets, then a staged close
 * (RFC 9112 section 9.6): the answer and a FIN go out, what the client still sends is read and
 * dropped (the parser, already failed, swallows it) until the client closes or `maxMs` passes.
 * Node's default writes a bare 400 and destroys the socket, which resets a client still sending.
 */
export function answerUnparsable(server: Server, { maxMs }: Pick<DrainSettings, 'maxMs'> = DEFAULT_DRAIN): void {
  const answering = new WeakMap<Socket, ServerResponse>();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => answering.set(req.socket, res));
  const answered = new WeakSet<Socket>();
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
    // The parser reports every later chunk of a failed request again: it was answered the first time.
    if (answered.has(socket)) return;
    answered.add(socket);
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    const timer = setTimeout(() => socket.destroy(), maxMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    socket.once('end', () => socket.destroy());
    // What failed came after a whole request still being answered (a GET's body sent without a
    // length, say): that answer is the one the client waits for; the connection closes after it.
    const pending = answering.get(socket);
    if (pending && !pending.writableFinished && pending.req.complete)
      return void pending.once('finish', () => socket.end());
    const [status, code, message] = PARSE_ERRORS[err.code ?? ''] ?? [
      400,
      'BAD_REQUEST',
      'the request could not be parsed',
    ];
    const body = JSON.stringify({ error: { code, message } });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}
