import winston from 'winston';

export type Logger = winston.Logger;

const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|api[-_]?key|credential/i;
// A JWT anywhere in a string: three base64url parts, the first two starting with '{"' encoded.
const JWT = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*/g;
// Credentials inside URLs: mysql://user:password@host, amqp://guest:guest@host.
const URL_CREDENTIALS = /(\w+:\/\/[^:/@\s]+:)[^@\s]+@/g;
const REDACTED = '[REDACTED]';

function redactString(value: string): string {
  return value.replace(JWT, REDACTED).replace(URL_CREDENTIALS, `$1${REDACTED}@`);
}

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactString(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { name: value.name, message: redactString(value.message) };
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? REDACTED : redactValue(inner, depth + 1);
  }
  return out;
}

/** Secrets never reach a log line: keys that name a secret are masked, JWTs and URL passwords too. */
export const redact = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level') continue;
    info[key] = SECRET_KEY.test(key) ? REDACTED : redactValue(info[key], 0);
  }
  return info;
});

/**
 * JSON lines on stdout (factor 11: logs are an event stream). Inside a request the OpenTelemetry
 * winston instrumentation adds trace_id and span_id, and ships the record over OTLP when an
 * endpoint is configured.
 */
export function createLogger(service: string, level = 'info'): Logger {
  return winston.createLogger({
    level,
    defaultMeta: { service },
    format: winston.format.combine(
      winston.format.errors({ stack: false }),
      redact(),
      winston.format.timestamp(),
      winston.format.json(),
    ),
    transports: [new winston.transports.Console()],
  });
}
