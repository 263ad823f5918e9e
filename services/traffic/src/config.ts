import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * The lab only ever loads its own shop: 127.0.0.0/8, ::1 or localhost. Anything else is refused,
 * so that a typo in GATEWAY_URL cannot point a load generator at someone else's server.
 */
export function isLoopbackUrl(value: string): boolean {
  let host: string;
  try {
    host = new URL(value).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return false;
  }
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return isIP(host) === 6 && host === '::1';
}

export const trafficEnv = z.object({
  // Where the control API and /metrics listen; a container sets 0.0.0.0 so Prometheus can scrape it.
  HOST: z.string().default('127.0.0.1'),
  GATEWAY_URL: z
    .url()
    .default('http://127.0.0.1:8080')
    .refine((url) => /^https?:/.test(url), 'must be an http(s) URL')
    .refine(
      isLoopbackUrl,
      'must be a loopback address (127.0.0.0/8, localhost or ::1): the lab loads only its own shop',
    ),
  TRAFFIC_PORT: z.coerce.number().int().min(0).max(65_535).default(9464),
  TRAFFIC_PROFILE: z.string().min(1).default('default'),
  TRAFFIC_RATE: z.coerce.number().min(0).max(500).optional(),
  TRAFFIC_USERS: z.coerce.number().int().min(1).max(1_000).default(20),
  // Longer than the gateway's slowest upstream timeout (orders, 5 s), so that its 504 is seen as
  // the shop's answer rather than as our own timeout.
  TRAFFIC_TIMEOUT_MS: z.coerce.number().int().min(10).max(120_000).default(8_000),
  TRAFFIC_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(10_000).default(200),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'debug']).default('info'),
  SERVICE_VERSION: z.string().default('1.0.0'),
});

export type TrafficConfig = z.infer<typeof trafficEnv>;
