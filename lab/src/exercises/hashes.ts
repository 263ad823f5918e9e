import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/**
 * The truth of a start is kept only as salted scrypt hashes (a fresh salt per start), so reading
 * the lab's files does not give the answers away, and an answer from another start does not
 * match this one. The state file itself: core/exercise-state.ts.
 */
export const newSalt = () => randomBytes(16).toString('hex');

export function hashAnswer(salt: string, key: string, value: string): string {
  return scryptSync(`${key}=${value}`, salt, 32).toString('hex');
}

export function matches(salt: string, key: string, value: string, hashes: string[]): boolean {
  const given = Buffer.from(hashAnswer(salt, key, value), 'hex');
  return hashes.some((hash) => timingSafeEqual(given, Buffer.from(hash, 'hex')));
}

export const secondsBetween = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 1000;
