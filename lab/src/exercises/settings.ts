import { UsageError } from '../core/errors';

/**
 * How `lab check` measures a fix: over LAB_CHECK_WINDOW (a PromQL duration, 1m by default),
 * polling Prometheus until LAB_CHECK_TIMEOUT passes. Tests shorten both; the conditions stay
 * the same.
 */
export interface CheckSettings {
  window: string;
  timeoutMs: number;
  pollMs: number;
}

const DURATION = /^(\d+)(s|m)$/;

function seconds(name: string, value: string): number {
  const match = DURATION.exec(value);
  if (!match || Number(match[1]) === 0)
    throw new UsageError(`${name} must be a duration such as 30s or 2m, not "${value}"`);
  return Number(match[1]) * (match[2] === 'm' ? 60 : 1);
}

export function checkSettings(env: NodeJS.ProcessEnv = process.env): CheckSettings {
  const window = env.LAB_CHECK_WINDOW || '1m';
  seconds('LAB_CHECK_WINDOW', window);
  const timeout = env.LAB_CHECK_TIMEOUT || '30s';
  const timeoutMs = seconds('LAB_CHECK_TIMEOUT', timeout) * 1000;
  return { window, timeoutMs, pollMs: Math.min(2_000, timeoutMs) };
}
