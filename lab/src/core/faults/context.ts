import fs from 'node:fs';
import { EVENTS_EXCHANGE } from '@shopnow/kit/amqp';
import { readEnv } from '../env-file';
import { LabError } from '../errors';
import { currentMode } from '../mode';
import type { LabPaths } from '../paths';
import { unloadLearnerRules } from '../runtime/learner-rules';
import { checkAll, redeploy } from '../runtime/lite';
import { labComponents } from '../runtime/stack';
import type { OverrideLayer } from '../runtime/supervisor';
import { CONSUMER_QUEUES } from '../topology';

export interface Instance {
  name: string; // catalog-2
  service: string; // catalog
  url: string;
}

/**
 * Everything the fault module needs to reach a running ShopNow: the lab builds it from .env and
 * its topology (labFaultContext); a test builds one for the stack it started.
 */
export interface FaultContext {
  instances: Instance[];
  labToken: string;
  /** An account allowed to ALTER the orders table (dropped-index). */
  mysqlAdminUrl: string;
  ordersSchema: string;
  amqpUrl: string;
  exchange: string;
  /** The queue each consumer reads, by service; its dead-letter queue is `<queue>.dlq`. */
  queues: Record<string, string>;
  /** The traffic generator (noisy-client); absent where none runs. */
  trafficUrl?: string;
  /** The lab-side faults in force (.lab/faults.json). */
  stateFile: string;
  /**
   * Redeploys one instance with `env` as one layer of its overrides (the release by default:
   * bad-release, rollback), or without that layer when `env` is undefined; layer 'all' drops
   * every override (`lab reset`). runtime/supervisor.ts says what the layers are.
   */
  deploy?: (instance: string, env: Record<string, string> | undefined, layer?: OverrideLayer | 'all') => Promise<void>;
  /** Resolves once every component answers healthy, or throws naming those that do not. */
  waitHealthy: () => Promise<void>;
  /** Uninstalls the learner's own alerting rules from Prometheus (`lab rules load` installs them). */
  unloadRules?: () => Promise<string[]>;
}

const HEALTH_DEADLINE_MS = 120_000;

/** The fault context of the lab in `paths`, in whichever mode it runs. */
export function labFaultContext(paths: LabPaths, shell: NodeJS.ProcessEnv = process.env): FaultContext {
  if (!fs.existsSync(paths.envFile)) throw new LabError(`no ${paths.envFile}: bring the lab up first (lab up)`);
  const env = readEnv(paths.envFile, shell);
  const mode = currentMode(paths, shell);
  const list = labComponents(paths, shell);
  const services = list.filter((c) => c.kind === 'service');
  const orders = services.find((c) => c.job === 'orders');
  // The broker names the plan gave the consumers (a prefixed lab has its own).
  const consumerEnv: Record<string, string | undefined> = {
    ...services.find((c) => c.job === 'inventory')?.env,
    ...services.find((c) => c.job === 'notifications')?.env,
  };
  // The full stack publishes MySQL and RabbitMQ on their usual ports, with its own credentials.
  const full = mode === 'full';
  return {
    instances: services.map((c) => ({ name: c.name, service: c.job, url: c.url })),
    labToken: env.LAB_TOKEN ?? '',
    mysqlAdminUrl: full
      ? `mysql://root:${encodeURIComponent(env.MYSQL_ROOT_PASSWORD ?? '')}@127.0.0.1:3306`
      : env.MYSQL_ADMIN_URL || 'mysql://root@127.0.0.1:3306',
    ordersSchema: orders?.schema?.name ?? 'orders',
    amqpUrl: full
      ? `amqp://${env.RABBITMQ_USER}:${encodeURIComponent(env.RABBITMQ_PASSWORD ?? '')}@127.0.0.1:5672`
      : env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672',
    exchange: consumerEnv.EVENTS_EXCHANGE || shell.EVENTS_EXCHANGE || EVENTS_EXCHANGE,
    queues: Object.fromEntries(
      Object.entries(CONSUMER_QUEUES).map(([service, { variable, name }]) => [
        service,
        consumerEnv[variable] || shell[variable] || name,
      ]),
    ),
    trafficUrl: list.find((c) => c.kind === 'traffic')?.url,
    stateFile: paths.faults,
    deploy: full
      ? undefined
      : async (instance, overrides, layer = 'release') => {
          const component = services.find((c) => c.name === instance);
          if (!component) throw new LabError(`no instance named ${instance}`);
          await redeploy(
            paths,
            component,
            layer,
            overrides && { ...overrides, ...releaseAttributes(component.env, overrides) },
          );
        },
    unloadRules: () => unloadLearnerRules(paths, mode),
    async waitHealthy() {
      const deadline = Date.now() + HEALTH_DEADLINE_MS;
      for (;;) {
        const down = (await checkAll(list)).filter((h) => !h.healthy).map((h) => h.name);
        if (down.length === 0) return;
        if (Date.now() > deadline) throw new LabError(`not healthy after the reset: ${down.join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    },
  };
}

/** A new SERVICE_VERSION shows in the traces too: service.version in OTEL_RESOURCE_ATTRIBUTES follows it. */
function releaseAttributes(planned: Record<string, string>, overrides: Record<string, string>): Record<string, string> {
  const version = overrides.SERVICE_VERSION;
  if (!version) return {};
  const others = (planned.OTEL_RESOURCE_ATTRIBUTES ?? '')
    .split(',')
    .filter((a) => a && !a.startsWith('service.version='));
  return { OTEL_RESOURCE_ATTRIBUTES: [`service.version=${version}`, ...others].join(',') };
}
