import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * The lab's records of what it broke (the lab-side faults, the releases and settings the
 * supervisor deploys) are written sealed: AES-256-GCM under a key derived from LAB_TOKEN, the
 * secret the lab already holds to switch faults. It is a seal, not a vault: the learner shares
 * the account and could derive the key from .env and this file, as they could read an exercise's
 * source. What it buys is what the issue asks for: while an exercise runs, no file under .lab/
 * names its fault, target or options in plain text (the answers are salted hashes for the same
 * reason), so the lab itself never hands out the diagnosis.
 */
const keyOf = (secret: string) => Buffer.from(hkdfSync('sha256', secret, 'shopnow-lab', 'sealed lab records', 32));

export interface Sealed {
  sealed: string; // base64 of iv (12 bytes) | tag (16) | ciphertext
}

export function seal(secret: string, value: unknown): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(secret), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return { sealed: Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64') };
}

/** The value a seal holds; throws when the secret is not the one it was sealed with. */
export function unseal<T>(secret: string, record: Sealed): T {
  const raw = Buffer.from(record.sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', keyOf(secret), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  return JSON.parse(text) as T;
}

export const isSealed = (value: unknown): value is Sealed =>
  typeof value === 'object' && value !== null && typeof (value as Sealed).sealed === 'string';
