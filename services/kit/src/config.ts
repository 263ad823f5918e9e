import { z } from 'zod';

/** Variables every service reads. Each service extends this with its own. */
export const commonEnv = z.object({
  HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'debug']).default('info'),
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  SERVICE_VERSION: z.string().default('1.0.0'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  // The share of requests a 2.x release of this service fails (the bad-release exercise deploys it).
  RELEASE_DEFECT_SHARE: z.coerce.number().min(0).max(1).default(0),
  // The lab's key to this instance's fault admin endpoint; without it the endpoint is off.
  LAB_TOKEN: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.string().min(16, 'must be at least 16 characters').optional(),
  ),
});

/** The port a service listens on; 0 lets the system pick a free one (the tests do). */
export const port = z.coerce.number().int().min(0).max(65_535);

/** A URL with one of these schemes, e.g. `serviceUrl('mysql')` for MYSQL_URL=mysql://auth:pw@127.0.0.1:3306/auth. */
export const serviceUrl = (...schemes: string[]) =>
  z.url({ protocol: new RegExp(`^(${schemes.join('|')})$`), error: `must be a ${schemes.join(' or ')}:// URL` });

export class ConfigError extends Error {}

/**
 * Reads the environment once, in main.ts, and fails fast naming every variable that is wrong.
 * Throws instead of exiting so that tests can assert on the message.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
}

/** Secrets and credentials: required, and long enough to be worth something. */
export const secret = (minLength = 16) => z.string().min(minLength, `must be at least ${minLength} characters`);

/** A comma-separated list of URLs, e.g. CATALOG_URLS=http://127.0.0.1:8082,http://127.0.0.1:8092. */
export const urlList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.url()).min(1, 'needs at least one URL'));
