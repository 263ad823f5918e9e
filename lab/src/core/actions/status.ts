import { exerciseUnderWay, type UnderWay } from '../exercise-state';
import { getJson, isHealthy } from '../http';
import { currentMode, type Mode } from '../mode';
import type { LabPaths } from '../paths';
import type { Health } from '../runtime/lite';
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
  /** The exercise under way, and how many of its faults the control plane keeps hidden. */
  exercise?: UnderWay;
}

interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
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

/** Which components answer healthy, what lite mode lacks, and the alerts firing now. */
export async function labStatus(paths: LabPaths): Promise<StatusData> {
  const mode = currentMode(paths);
  const components = await Promise.all(
    endpoints(mode, paths).map(async (e) => ({ name: e.name, healthy: await isHealthy(e.health), url: e.url })),
  );
  const alerts = await firingAlerts(endpoint(mode, paths, 'alertmanager').url);
  const exercise = exerciseUnderWay(paths.exercises);
  return {
    mode,
    components,
    ...(mode === 'lite' ? { unavailable: UNAVAILABLE_IN_LITE_MODE } : {}),
    alerts,
    ...(exercise ? { exercise } : {}),
  };
}
