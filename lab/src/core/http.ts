/** Small HTTP helpers with a timeout: every lab endpoint is on this machine and answers fast. */
export class Unreachable extends Error {}

export async function request(url: string, init: RequestInit = {}, timeoutMs = 2_000): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new Unreachable(`${url} does not answer (${(err as Error).message})`);
  }
}

export async function getJson<T>(url: string, timeoutMs?: number): Promise<T> {
  const res = await request(url, {}, timeoutMs);
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return (await res.json()) as T;
}

export async function postJson<T>(url: string, body: unknown, timeoutMs?: number): Promise<T> {
  const res = await request(
    url,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    timeoutMs,
  );
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

export async function isHealthy(url: string): Promise<boolean> {
  try {
    return (await request(url)).ok;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
