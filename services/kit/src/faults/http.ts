import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import type { Faults } from './engine';

/** A build of a service: 2.x releases carry a defect that fails `defectShare` of their requests. */
export interface Release {
  version: string;
  defectShare: number;
}

/** Buffers kept alive by the memory-leak fault; emptied when the fault is cleared. */
const leaked: Buffer[] = [];

/** CPU-bound hashing on the event loop's thread: nothing else in the process runs meanwhile. */
function burnCpu(ms: number): void {
  const until = performance.now() + ms;
  let block = Buffer.alloc(4_096, 1);
  while (performance.now() < until)
    block = Buffer.concat([createHash('sha256').update(block).digest(), block.subarray(32)]);
}

/**
 * The request-level faults any service can show, applied before its handlers and after the RED
 * middleware, so their effect lands in the service's own metrics, logs and traces.
 */
export function requestFaults(faults: Faults, log: Logger, release?: Release): RequestHandler {
  // A property of the build, not switched at runtime: the lab deploys 2.0.0 to one instance.
  const defectShare = release?.version.startsWith('2.') ? release.defectShare : 0;
  faults.onChange((name, options) => {
    if (name === 'memory-leak' && !options) leaked.length = 0;
  });
  return async (req, _res, next) => {
    // FAULT(memory-leak): a per-request buffer that is never released.
    const leak = faults.active('memory-leak');
    if (leak) leaked.push(Buffer.alloc(leak.bytesPerRequest, 7));

    // FAULT(log-flood): verbose lines with large payloads on every request.
    const flood = faults.active('log-flood');
    if (flood) {
      for (let i = 0; i < flood.linesPerRequest; i += 1) {
        log.info('request detail', {
          step: i,
          method: req.method,
          path: req.path,
          headers: req.headers,
          query: req.query,
        });
      }
    }

    // FAULT(event-loop-block): synchronous work in the request path.
    const block = faults.hits('event-loop-block', req.path);
    if (block) burnCpu(block.ms);

    // FAULT(latency): the handler is slow for a share of requests.
    const latency = faults.hits('latency', req.path);
    if (latency) await new Promise((resolve) => setTimeout(resolve, latency.ms));

    // FAULT(bad-release): release 2.x fails a share of its requests, on this instance only.
    if (defectShare > 0 && Math.random() < defectShare) throw new AppError(500, 'INTERNAL', 'internal error');

    // FAULT(errors): a broken code path answers 5xx for a share of requests.
    const errors = faults.hits('errors', req.path);
    if (errors) throw new AppError(errors.status, 'INTERNAL', 'internal error');

    next();
  };
}
