import { LabError } from '../errors';
import { getJson, Unreachable } from '../http';
import { currentMode } from '../mode';
import type { LabPaths } from '../paths';
import { endpoint } from '../runtime/stack';

/** One alert as the lab webhook recorded it (components/webhook writes them, this reads them). */
export interface Page {
  receivedAt: string;
  receiver: string;
  status: string; // firing | resolved
  alertname: string;
  severity: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint?: string;
}

/** The pages Alertmanager delivered to the lab webhook, oldest first. */
export async function labPages(paths: LabPaths): Promise<Page[]> {
  const webhook = endpoint(currentMode(paths), paths, 'lab-webhook');
  try {
    return await getJson<Page[]>(`${webhook.url}/pages`);
  } catch (err) {
    if (err instanceof Unreachable)
      throw new LabError(`the lab webhook does not answer at ${webhook.url}: is the lab up? (lab status)`);
    throw err;
  }
}
