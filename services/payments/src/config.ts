import { commonEnv, port } from '@shopnow/kit';
import { mysqlEnv } from '@shopnow/kit/mysql';
import { z } from 'zod';

/** Everything payments reads from the environment; main.ts loads it once. */
export const paymentsEnv = commonEnv.extend({
  ...mysqlEnv,
  PORT: port.default(8084),
  PROVIDER_LATENCY_MS: z.coerce.number().int().min(0).max(60_000).default(40),
  PROVIDER_DECLINE_RATE: z.coerce.number().min(0).max(1).default(0.02),
});

export type PaymentsConfig = z.infer<typeof paymentsEnv>;
