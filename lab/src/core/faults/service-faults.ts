import { LAB_TOKEN_HEADER, type ActiveFault, type FaultName } from '@shopnow/kit';
import { LabError } from '../errors';
import type { FaultContext, Instance } from './context';

/** One call to an instance's fault admin API (/admin/faults), with the lab token. */
const admin = <T>(ctx: FaultContext, instance: Instance, method: string, path: string, body?: unknown) =>
  adminRequest<T>(ctx, instance, method, `/faults${path}`, body);

/** One call to an instance's admin API (`/admin<path>`), with the lab token. */
export async function adminRequest<T>(
  ctx: FaultContext,
  instance: Instance,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const url = `${instance.url}/admin${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { [LAB_TOKEN_HEADER]: ctx.labToken, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
  } catch (err) {
    throw new LabError(`${instance.name} does not answer at ${instance.url} (${(err as Error).message})`);
  }
  const answer = (await res.json().catch(() => ({}))) as T & { error?: { code: string; message: string } };
  if (!res.ok)
    throw new LabError(
      `${instance.name} refused ${method} ${path || '/'}: ${res.status} ${answer.error?.code ?? ''} ${answer.error?.message ?? ''}`.trim(),
    );
  return answer;
}

export async function setServiceFault(
  ctx: FaultContext,
  instance: Instance,
  name: FaultName,
  options: Record<string, unknown>,
): Promise<ActiveFault> {
  return (await admin<{ fault: ActiveFault }>(ctx, instance, 'PUT', `/${name}`, options)).fault;
}

/** Clears one fault (or every fault when `name` is undefined); says whether one was on. */
export async function clearServiceFault(ctx: FaultContext, instance: Instance, name?: FaultName): Promise<boolean> {
  return (await admin<{ cleared: boolean }>(ctx, instance, 'DELETE', name ? `/${name}` : '')).cleared;
}

export async function listServiceFaults(ctx: FaultContext, instance: Instance): Promise<ActiveFault[]> {
  return (await admin<{ faults: ActiveFault[] }>(ctx, instance, 'GET', '')).faults;
}
