import { labPages, type Page } from '../../core/actions/pages';
import type { LabPaths } from '../../core/paths';
import type { Report } from '../output';

/** The pages Alertmanager delivered to the lab webhook, oldest first. */
export async function pages(paths: LabPaths): Promise<Report<{ pages: Page[] }>> {
  const list = await labPages(paths);
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
