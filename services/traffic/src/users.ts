import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@shopnow/kit';
import type { User } from './journeys';

export interface EnrolOptions {
  gatewayUrl: string;
  count: number;
  timeoutMs: number;
  /** Aborted at shutdown: stops waiting for the gateway. */
  signal: AbortSignal;
  log: Logger;
}

// Each enrolment is two scrypt hashes in auth (16 MiB each): a few at a time, not all at once.
const CONCURRENCY = 4;
const MAX_BACKOFF_MS = 5_000;

/**
 * Registers `count` users with random passwords and signs each one in. The gateway may come up
 * after the generator, so unanswered calls, 429s and 5xx are retried with a growing pause until it
 * answers; any other 4xx is a real mistake and throws. Emails carry a run id, so restarts never clash.
 */
export async function enrolUsers(options: EnrolOptions): Promise<User[]> {
  const run = randomBytes(4).toString('hex');
  const users: User[] = Array.from({ length: options.count }, (_, i) => ({
    email: `traffic-${run}-${i + 1}@shopnow.test`,
    password: randomBytes(18).toString('base64url'),
  }));
  const waiting = { logged: false };
  for (let i = 0; i < users.length; i += CONCURRENCY) {
    await Promise.all(users.slice(i, i + CONCURRENCY).map((user) => enrol(user, options, waiting)));
  }
  return users;
}

async function enrol(user: User, options: EnrolOptions, waiting: { logged: boolean }): Promise<void> {
  const { email, password } = user;
  const name = `Traffic ${email.split('@')[0]}`;
  // 409: an earlier attempt did create the account and only its answer was lost.
  await untilAnswered('/api/auth/register', { email, password, name }, [201, 409], options, waiting);
  const body = await untilAnswered('/api/auth/login', { email, password }, [200], options, waiting);
  user.token = (body as { token?: string }).token;
}

async function untilAnswered(
  path: string,
  json: unknown,
  accepted: number[],
  options: EnrolOptions,
  waiting: { logged: boolean },
): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    let answer: { status: number; body: unknown } | undefined;
    let problem: string;
    try {
      const res = await fetch(`${options.gatewayUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(json),
        signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]),
      });
      answer = { status: res.status, body: await res.json().catch(() => undefined) };
      problem = `answered ${res.status}`;
    } catch (err) {
      if (options.signal.aborted) throw err;
      problem = err instanceof Error ? err.message : String(err);
    }
    if (answer && accepted.includes(answer.status)) return answer.body;
    if (answer && answer.status !== 429 && answer.status < 500) {
      throw new Error(`enrolling traffic users: POST ${path} ${problem} ${JSON.stringify(answer.body)}`);
    }
    if (!waiting.logged) {
      waiting.logged = true;
      options.log.warn('waiting for the gateway to enrol traffic users', { path, problem });
    }
    await sleep(Math.min(MAX_BACKOFF_MS, 250 * 2 ** attempt), undefined, { signal: options.signal });
  }
}
