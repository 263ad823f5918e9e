import { commonEnv, port, secret } from '@shopnow/kit';
import { mysqlEnv } from '@shopnow/kit/mysql';
import { z } from 'zod';

/** Everything auth reads from the environment; main.ts loads it once. */
export const authEnv = commonEnv
  .extend({
    ...mysqlEnv,
    PORT: port.default(8081),
    JWT_SECRET: secret(32),
    JWT_ISSUER: z.string().min(1).default('shopnow-auth'),
    JWT_AUDIENCE: z.string().min(1).default('shopnow'),
    JWT_TTL_SECONDS: z.coerce.number().int().positive().default(3600),
    ADMIN_EMAIL: z.string().trim().toLowerCase().pipe(z.email()).optional(),
    ADMIN_PASSWORD: z.string().min(8).max(128).optional(),
  })
  .refine((env) => (env.ADMIN_EMAIL === undefined) === (env.ADMIN_PASSWORD === undefined), {
    message: 'ADMIN_EMAIL and ADMIN_PASSWORD are set together or not at all',
    path: ['ADMIN_PASSWORD'],
  });

export type AuthConfig = z.infer<typeof authEnv>;
