import { LabError } from '../errors';
import { getJson, Unreachable } from '../http';
import type { Report } from '../output';
import type { LabPaths } from '../paths';
import { endpoint } from '../runtime/stack';
import { currentMode } from '../mode';
import type { Page } from '../webhook';

/** The pages Alertmanager delivered to the lab webhook, oldest first. */
export async function pages(paths: LabPaths): Promise<Report<{ pages: Page[] }>> {
  const webhook = endpoint(currentMode(paths), paths, 'lab-webhook');
  let list: Page[];
  try {
    list = await getJson<Page[]>(`${webhook.url}/pages`);
  } catch (err) {
    if (err instanceof Unreachable)
      throw new LabError(`the lab webhook does not answer at ${webhook.url}: is the lab up? (lab status)`);
    throw err;
  }
  return {
    data: { pages: list },
    ok: true,
    sections: list.length
      ? [
          {
            table: {
              head: ['RECEIVED', 'STATUS', 'ALERT', 'SEVERITY', 'SUMMARY'],
              rows: list.map((p) => [
                p.receivedAt,
                p.status === 'firing' ? { text: 'firing', tone: 'bad' } : { text: p.status, tone: 'ok' },
                p.alertname,
                p.severity,
                p.annotations.summary ?? '',
              ]),
            },
          },
        ]
      : [{ lines: ['No page yet.'] }],
  };
}
