import type { Cleared, FaultContext, InjectRequest, Injected, Instance } from '../faults';
import { clearFaults, injectFault } from '../faults';
import type { Progress } from '../output';
import type { LabPaths } from '../paths';
import { restartInstance } from '../commands/restart';
import { rollbackInstance } from '../commands/rollback';
import { runSql, type SqlResult } from '../commands/sql';
import type { RunMode } from './api';
import type { Shop } from './shop';

/**
 * Everything an exercise's setup and solve may do to the lab, and nothing more: they stay
 * readable, and they act through the same paths as the learner's commands.
 */
export interface ExerciseContext {
  mode: RunMode;
  /** The service instances: `{ name: 'catalog-2', service: 'catalog', url }`. */
  instances: Instance[];
  /** The consumers' queues of this lab (`inventory.order-created`, ...; a prefixed lab prefixes them). */
  queues: string[];
  faults: {
    inject(request: InjectRequest): Promise<Injected>;
    clear(request?: { name?: string; instance?: string }): Promise<Cleared>;
  };
  /** ShopNow as a customer, through the gateway. */
  shop: Shop;
  /** `lab restart <instance>`. */
  restart(instance: string): Promise<void>;
  /** `lab rollback <instance>`: redeployed as its planned release (lite mode). */
  rollback(instance: string): Promise<void>;
  /** `lab sql <service> "<statement>"`: as that service's own MySQL user. */
  sql(service: string, statement: string): Promise<SqlResult>;
  /** `lab answer <id> key=value ...` for this exercise. */
  answer(values: Record<string, string>): Promise<void>;
  progress: Progress;
}

export interface ContextParts {
  mode: RunMode;
  paths: LabPaths;
  faults: FaultContext;
  shop: Shop;
  progress: Progress;
  answer(values: Record<string, string>): Promise<void>;
}

export function exerciseContext(parts: ContextParts): ExerciseContext {
  const { paths, faults, progress } = parts;
  return {
    mode: parts.mode,
    instances: faults.instances,
    queues: faults.queues,
    faults: {
      inject: (request) => injectFault(faults, request),
      clear: (request) => clearFaults(faults, request),
    },
    shop: parts.shop,
    restart: (instance) => restartInstance(paths, instance, progress),
    rollback: async (instance) => void (await rollbackInstance(paths, instance, progress)),
    sql: (service, statement) => runSql(paths, service, statement),
    answer: parts.answer,
    progress,
  };
}
