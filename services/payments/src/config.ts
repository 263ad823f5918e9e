import { commonEnv } from '@shopnow/kit';
import { z } from 'zod';

/** Everything payments reads from the environment; main.ts loads it once. */
export const paymentsEnv = commonEnv.extend({
  PORT: z.coerce.number().int().min(0).max(65_535).default(8084),
  MYSQL_URL: z.url(),
  MYSQL_CONNECTION_LIMIT: z.coerce.number().int().positive().default(10),
  PROVIDER_LATENCY_MS: z.coerce.number().int().min(0).max(60_000).default(40),
  PROVIDER_DECLINE_RATE: z.coerce.number().min(0).max(1).default(0.02),
});

export type PaymentsConfig = z.infer<typeof paymentsEnv>;
