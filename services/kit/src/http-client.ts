import { AppError } from './errors';

export interface ServiceResponse<T> {
  status: number;
  body: T;
}

/**
 * A synchronous call to another service, with a deadline. Trace context travels in the
 * `traceparent` header, added by the OpenTelemetry fetch (undici) instrumentation. A timeout
 * is a 504 and an unreachable service a 503, both as AppErrors naming the dependency.
 */
export async function callService<T>(
  dependency: string,
  url: string,
  options: { method?: string; body?: unknown; headers?: Record<string, string>; timeoutMs: number },
): Promise<ServiceResponse<T>> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: options.method ?? 'GET',
      headers: { 'content-type': 'application/json', ...options.headers },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') {
      throw new AppError(504, 'DEPENDENCY_TIMEOUT', `${dependency} did not answer within ${options.timeoutMs} ms`);
    }
    throw new AppError(503, 'DEPENDENCY_UNAVAILABLE', `${dependency} is unreachable`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    throw new AppError(502, 'BAD_DEPENDENCY_RESPONSE', `${dependency} answered with something that is not JSON`);
  }
  return { status: response.status, body: body as T };
}
