import { getJson, isHealthy } from '../http';
import { currentMode, type Mode } from '../mode';
import type { Report, Section } from '../output';
import type { LabPaths } from '../paths';
import type { Health } from '../runtime/native';
import { endpoint, endpoints, UNAVAILABLE_IN_LITE_MODE } from '../runtime/stack';

export interface Alert {
  alertname: string;
  severity: string;
  startsAt: string;
  summary: string;
  labels: Record<string, string>;
}

export interface StatusData {
  mode: Mode;
  components: Health[];
  unavailable?: Array<{ name: string; instead: string }>;
  alerts: Alert[] | null; // null: Alertmanager did not answer
}

interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
}

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

/** The alerts firing now, from Alertmanager's API v2 (silenced and inhibited ones left out). */
export async function firingAlerts(alertmanagerUrl: string): Promise<Alert[] | null> {
  try {
    const alerts = await getJson<AlertmanagerAlert[]>(
      `${alertmanagerUrl}/api/v2/alerts?active=true&silenced=false&inhibited=false`,
    );
    return alerts.map((a) => ({
      alertname: a.labels.alertname ?? '',
      severity: a.labels.severity ?? '',
      startsAt: a.startsAt,
      summary: a.annotations.summary ?? '',
      labels: a.labels,
    }));
  } catch {
    return null;
  }
}

export async function status(paths: LabPaths): Promise<Report<StatusData>> {
  const mode = currentMode(paths);
  const list = endpoints(mode, paths);
  const components = await Promise.all(
    list.map(async (e) => ({ name: e.name, healthy: await isHealthy(e.health), url: e.url })),
  );
  const alertmanager = endpoint(mode, paths, 'alertmanager');
  const alerts = await firingAlerts(alertmanager.url);
  const data: StatusData = {
    mode,
    components,
    ...(mode === 'native' ? { unavailable: UNAVAILABLE_IN_LITE_MODE } : {}),
    alerts,
  };
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
  return { data, ok: components.every((c) => c.healthy), sections };
}
