/**
 * The lab's fault control plane, one module for the CLI and the exercises: list the catalogue,
 * inject a fault (inside a service through its admin API, or carried out by the lab), clear it,
 * say what is in force, and reset everything. The catalogue in the kit is the single source of
 * names and options; everything is validated against it before anything is sent.
 */
import { appliesTo, FAULT_NAMES, FAULTS, isFaultName, type FaultName } from '@shopnow/kit';
import { z } from 'zod';
import { LabError, UsageError } from '../errors';
import type { FaultContext, Instance } from './context';
import {
  BAD_RELEASE_VERSION,
  deployRelease,
  dropHistoryIndex,
  hasHistoryIndex,
  publishPoison,
  purgeDeadLetters,
  readLabFaults,
  restoreHistoryIndex,
  runningVersion,
  setTraffic,
  startNoisyClient,
  writeLabFaults,
  type LabFault,
  type TrafficState,
} from './lab-faults';
import { clearServiceFault, listServiceFaults, setServiceFault } from './service-faults';

export { labFaultContext, type FaultContext, type Instance } from './context';

export interface FaultInfo {
  name: FaultName;
  description: string;
  where: 'service' | 'lab';
  services: 'any' | string[];
  /** Each option's JSON schema (type, bounds, default). */
  options: Record<string, Record<string, unknown>>;
}

export function listFaults(): FaultInfo[] {
  return FAULT_NAMES.map((name) => {
    const fault = FAULTS[name];
    const schema = z.toJSONSchema(fault.options, { io: 'input' }) as { properties?: Record<string, object> };
    return {
      name,
      description: fault.description,
      where: fault.where,
      services: fault.services === 'any' ? 'any' : [...fault.services],
      options: Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([key, value]) => [key, value as Record<string, unknown>]),
      ),
    };
  });
}

export interface InjectRequest {
  name: string;
  service?: string;
  instance?: string;
  options?: Record<string, unknown>;
}

export interface Injected {
  name: FaultName;
  where: 'service' | 'lab';
  /** The instances it acts on (none for faults on shared state: an index, the broker, traffic). */
  instances: string[];
  options: Record<string, unknown>;
}

export interface ActiveEntry {
  name: FaultName;
  where: 'service' | 'lab';
  instance?: string;
  options: Record<string, unknown>;
  since: string;
}

function faultName(name: string): FaultName {
  if (!isFaultName(name))
    throw new UsageError(`unknown fault "${name}"; \`lab fault list\` shows: ${FAULT_NAMES.join(', ')}`);
  return name;
}

function instanceNamed(ctx: FaultContext, name: string): Instance {
  const found = ctx.instances.find((i) => i.name === name);
  if (!found)
    throw new UsageError(`unknown instance "${name}"; instances: ${ctx.instances.map((i) => i.name).join(', ')}`);
  return found;
}

/** The instances a fault is aimed at, from --instance, --service, or the only service it applies to. */
function targetsOf(ctx: FaultContext, name: FaultName, request: { service?: string; instance?: string }): Instance[] {
  const { services } = FAULTS[name];
  const known = [...new Set(ctx.instances.map((i) => i.service))];
  let service = request.service;
  if (request.instance) {
    const instance = instanceNamed(ctx, request.instance);
    if (service && service !== instance.service)
      throw new UsageError(`instance ${instance.name} belongs to ${instance.service}, not ${service}`);
    service = instance.service;
  }
  if (!service) {
    if (services === 'any' || services.length > 1)
      throw new UsageError(
        `${name} needs --service (${services === 'any' ? known.join(', ') : services.join(', ')}) or --instance`,
      );
    service = services[0];
  }
  if (!known.includes(service)) throw new UsageError(`unknown service "${service}"; services: ${known.join(', ')}`);
  if (!appliesTo(name, service))
    throw new UsageError(
      `${name} does not apply to ${service}; it applies to ${(services as readonly string[]).join(', ')}`,
    );
  return request.instance ? [instanceNamed(ctx, request.instance)] : ctx.instances.filter((i) => i.service === service);
}

function validOptions(name: FaultName, options: Record<string, unknown>): Record<string, unknown> {
  const parsed = FAULTS[name].options.safeParse(options);
  if (!parsed.success) throw new UsageError(`invalid options for ${name}:\n${z.prettifyError(parsed.error)}`);
  return parsed.data as Record<string, unknown>;
}

/** Checks a fault's name and options against the catalogue (UsageError naming what is wrong); answers its options with defaults. */
export function checkFault(name: string, options: Record<string, unknown> = {}): Record<string, unknown> {
  return validOptions(faultName(name), options);
}

export async function injectFault(ctx: FaultContext, request: InjectRequest): Promise<Injected> {
  const name = faultName(request.name);
  const options = validOptions(name, request.options ?? {});
  // Poison goes to the exchange, for every consumer unless --service names one: it needs no target.
  const targets =
    name === 'poison-message' && !request.service && !request.instance ? [] : targetsOf(ctx, name, request);

  if (FAULTS[name].where === 'service') {
    // The user's options as given: the service validates them against the same catalogue.
    for (const target of targets) await setServiceFault(ctx, target, name, request.options ?? {});
    return { name, where: 'service', instances: targets.map((t) => t.name), options };
  }

  const records = readLabFaults(ctx);
  const previous = records.find((r) => r.name === name);
  const record: LabFault = { name, options, since: new Date().toISOString() };
  if (name === 'dropped-index') await dropHistoryIndex(ctx);
  if (name === 'poison-message') {
    const messageIds = typeof options.messageIds === 'string' ? options.messageIds.split(',') : undefined;
    const services = [...new Set(targets.map((t) => t.service))];
    record.undo = { messageIds: await publishPoison(ctx, { count: Number(options.count), messageIds, services }) };
  }
  if (name === 'noisy-client') {
    const before = await startNoisyClient(ctx, Number(options.rate), options.apiKey as string | undefined);
    record.undo = previous?.undo ?? { ...before }; // injected twice: still go back to what ran before the first
  }
  if (name === 'bad-release') {
    // One instance: a canary of the new release beside the old one(s).
    const target = targets[0];
    await deployRelease(ctx, target.name, Number(options.errorShare));
    const version = await runningVersion(target.url);
    if (version !== BAD_RELEASE_VERSION)
      throw new LabError(`${target.name} restarted but reports version ${version}, not ${BAD_RELEASE_VERSION}`);
    record.target = target.name;
  }
  writeLabFaults(ctx, [...records.filter((r) => !(r.name === name && r.target === record.target)), record]);
  return { name, where: 'lab', instances: record.target ? [record.target] : [], options };
}

/** Undoes one lab-side fault. */
async function undo(ctx: FaultContext, fault: LabFault): Promise<void> {
  if (fault.name === 'dropped-index') await restoreHistoryIndex(ctx);
  if (fault.name === 'poison-message') await purgeDeadLetters(ctx);
  if (fault.name === 'noisy-client')
    await setTraffic(ctx, (fault.undo as TrafficState | undefined) ?? { profile: 'default' });
  if (fault.name === 'bad-release' && fault.target) await deployRelease(ctx, fault.target, undefined);
}

export interface Cleared {
  cleared: ActiveEntry[];
  unreachable: string[];
}

/** Clears one fault or all, on one instance or everywhere; instances that do not answer are named. */
export async function clearFaults(
  ctx: FaultContext,
  request: { name?: string; instance?: string } = {},
): Promise<Cleared> {
  const name = request.name === undefined ? undefined : faultName(request.name);
  const instances = request.instance ? [instanceNamed(ctx, request.instance)] : ctx.instances;
  const cleared: ActiveEntry[] = [];
  const unreachable: string[] = [];
  if (!name || FAULTS[name].where === 'service') {
    for (const instance of instances) {
      try {
        for (const fault of await listServiceFaults(ctx, instance)) {
          if (name && fault.name !== name) continue;
          if (await clearServiceFault(ctx, instance, fault.name))
            cleared.push({ ...fault, where: 'service', instance: instance.name });
        }
      } catch (err) {
        if (!(err instanceof LabError)) throw err;
        unreachable.push(instance.name); // its faults live in its memory: a restarted instance has none
      }
    }
  }
  const records = readLabFaults(ctx);
  const matches = (r: LabFault) => (!name || r.name === name) && (!request.instance || r.target === request.instance);
  for (const record of records.filter(matches)) {
    await undo(ctx, record);
    cleared.push({
      name: record.name,
      where: 'lab',
      instance: record.target,
      options: record.options,
      since: record.since,
    });
    writeLabFaults(
      ctx,
      readLabFaults(ctx).filter((r) => !(r.name === record.name && r.target === record.target)),
    );
  }
  return { cleared, unreachable };
}

export async function activeFaults(ctx: FaultContext): Promise<{ faults: ActiveEntry[]; unreachable: string[] }> {
  const unreachable: string[] = [];
  const perInstance = await Promise.all(
    ctx.instances.map(async (instance) => {
      try {
        return (await listServiceFaults(ctx, instance)).map((f) => ({
          ...f,
          where: 'service' as const,
          instance: instance.name,
        }));
      } catch (err) {
        if (!(err instanceof LabError)) throw err;
        unreachable.push(instance.name);
        return [];
      }
    }),
  );
  // An index the learner built again by hand (`lab sql`, exercise 03) is no longer a fault in force.
  const records = readLabFaults(ctx);
  const indexBack = records.some((r) => r.name === 'dropped-index') && (await hasHistoryIndex(ctx));
  const lab = records
    .filter((r) => !(r.name === 'dropped-index' && indexBack))
    .map(({ name, target, options, since }) => ({ name, where: 'lab' as const, instance: target, options, since }));
  return { faults: [...perInstance.flat(), ...lab], unreachable };
}

export interface ResetResult extends Cleared {
  purged: Record<string, number>;
  /** The learner's rule files taken out of Prometheus (the files themselves are kept). */
  rulesUnloaded: string[];
}

/**
 * Everything back to how `lab up` left it, whatever the state file says: every fault cleared, the
 * index present, every instance on its planned release and config, the default traffic profile, the
 * dead-letter queues empty, Prometheus with the lab's rules only; then waits until every
 * component is healthy.
 */
export async function resetLab(ctx: FaultContext): Promise<ResetResult> {
  const result = await clearFaults(ctx);
  const rulesUnloaded = (await ctx.unloadRules?.()) ?? [];
  await restoreHistoryIndex(ctx);
  for (const instance of ctx.instances) if (ctx.deploy) await ctx.deploy(instance.name, undefined, 'all');
  if (ctx.trafficUrl) await setTraffic(ctx, { profile: 'default' });
  const purged = await purgeDeadLetters(ctx);
  writeLabFaults(ctx, []);
  await ctx.waitHealthy();
  return { ...result, purged, rulesUnloaded };
}
