import { labStatus, type StatusData } from '../../core/actions/status';
import type { LabPaths } from '../../core/paths';
import type { Health } from '../../core/runtime/lite';
import type { Report, Section } from '../output';
import { hiddenLine } from './fault';

export function componentsTable(components: Health[]): Section {
  return {
    table: {
      head: ['COMPONENT', 'STATE', 'URL'],
      rows: components.map((c) => [
        c.name,
        c.healthy ? { text: 'healthy', tone: 'ok' } : { text: 'down', tone: 'bad' },
        c.url,
      ]),
    },
  };
}

export async function status(paths: LabPaths): Promise<Report<StatusData>> {
  const data = await labStatus(paths);
  const { mode, components, alerts } = data;
  const sections: Section[] = [{ title: `ShopNow lab (${mode} mode)` }, componentsTable(components)];
  if (data.unavailable)
    sections.push({
      title: 'Not in lite mode, and what to use instead',
      table: { head: ['MISSING', 'USE INSTEAD'], rows: data.unavailable.map((u) => [u.name, u.instead]) },
    });
  if (alerts === null) sections.push({ lines: ['Alertmanager does not answer: no alert list.'] });
  else if (alerts.length === 0) sections.push({ lines: ['No alert is firing.'] });
  else
    sections.push({
      title: 'Firing alerts',
      table: {
        head: ['ALERT', 'SEVERITY', 'SINCE', 'SUMMARY'],
        rows: alerts.map((a) => [{ text: a.alertname, tone: 'bad' }, a.severity, a.startsAt, a.summary]),
      },
    });
  if (data.exercise) sections.push({ lines: [hiddenLine(data.exercise)] });
  return { data, ok: components.every((c) => c.healthy), sections };
}
