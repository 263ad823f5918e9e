import fs from 'node:fs';
import path from 'node:path';
import type { Cleared, FaultContext, InjectRequest, Injected, Instance } from '../core/faults';
import { clearFaults, injectFault } from '../core/faults';
import { adminRequest } from '../core/faults/service-faults';
import { UsageError } from '../core/errors';
import type { Progress } from '../core/progress';
import type { Mode } from '../core/mode';
import type { LabPaths } from '../core/paths';
import { labBroker, purgeDeadLetterQueue } from '../core/actions/dlq';
import { restartInstance } from '../core/actions/restart';
import { rollbackInstance } from '../core/actions/rollback';
import { runSql, type SqlResult } from '../core/actions/sql';
import {
  answerRulesFile,
  checkRules,
  LAB_RULES_DIR,
  loadLearnerRules,
  testRules,
  type LoadedRules,
  type RuleTest,
} from '../core/runtime/learner-rules';
import type { Shop } from './shop';

/**
 * Everything an exercise's setup and solve may do to the lab, and nothing more: they stay
 * readable, and they act through the same paths as the learner's commands.
 */
export interface ExerciseContext {
  mode: Mode;
  /** The service instances: `{ name: 'catalog-2', service: 'catalog', url }`. */
  instances: Instance[];
  /**
   * The `instance` label Prometheus gives an instance, in each form a learner may read it in:
   * `127.0.0.1:8092` (lite mode), `localhost:8092`, `catalog-2:8092` (Docker).
   */
  instanceLabels(name: string): string[];
  /** The queue a consumer reads in this lab: `inventory` -> `inventory.order-created` (a prefixed lab prefixes it). */
  queueOf(service: string): string;
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
  /** `lab dlq purge <queue>`: empties one of the consumers' dead-letter queues. */
  purgeDeadLetters(queue: string): Promise<{ queue: string; purged: number }>;
  /** `lab sql <service> "<statement>"`: as that service's own MySQL user. */
  sql(service: string, statement: string): Promise<SqlResult>;
  /** An instance's admin API (`<url>/admin<path>`) with the lab token, as an operator calls it with curl. */
  admin(instance: string, method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<unknown>;
  /** `lab answer <id> key=value ...` for this exercise. */
  answer(values: Record<string, string>): Promise<void>;
  /** The learner's Prometheus rules: this exercise's answer file, promtool, `lab rules load`. */
  rules: LearnerRules;
  progress: Progress;
}

export interface LearnerRules {
  /** exercises/NN-slug/answer.rules.yml under the lab home: where the learner writes rules. */
  file: string;
  /** The lab's own rule files (observability/prometheus/rules), for their recording rules. */
  labDir: string;
  /** Writes the answer file (unless it exists and `keep` is set): a skeleton, or the reference answer. */
  write(text: string, options?: { keep?: boolean }): void;
  /** `promtool check rules`: undefined when it passes, else promtool's message. */
  check(file: string): Promise<string | undefined>;
  /** `promtool test rules` on a generated test file. */
  test(spec: RuleTest): Promise<{ passed: boolean; output: string }>;
  /** `lab rules load`: checks every answer file, installs them, reloads Prometheus. */
  load(): Promise<LoadedRules>;
}

export interface ContextParts {
  mode: Mode;
  paths: LabPaths;
  /** The exercise's folder (exercises/NN-slug): names its answer file. */
  folder: string;
  faults: FaultContext;
  shop: Shop;
  progress: Progress;
  answer(values: Record<string, string>): Promise<void>;
}

export function exerciseContext(parts: ContextParts): ExerciseContext {
  const { paths, faults, progress } = parts;
  const { mode } = parts;
  const file = answerRulesFile(paths, parts.folder);
  return {
    mode,
    instances: faults.instances,
    instanceLabels: (name) => {
      const { port } = new URL(faults.instances.find((i) => i.name === name)?.url ?? 'http://unknown');
      return [`127.0.0.1:${port}`, `localhost:${port}`, `${name}:${port}`];
    },
    queueOf(service) {
      const queue = faults.queues[service];
      if (!queue)
        throw new UsageError(`"${service}" consumes no queue; one of: ${Object.keys(faults.queues).join(', ')}`);
      return queue;
    },
    faults: {
      inject: (request) => injectFault(faults, request),
      clear: (request) => clearFaults(faults, request),
    },
    shop: parts.shop,
    restart: (instance) => restartInstance(paths, instance, progress),
    rollback: async (instance) => void (await rollbackInstance(paths, instance, progress)),
    purgeDeadLetters: (queue) => purgeDeadLetterQueue(labBroker(paths), queue),
    sql: (service, statement) => runSql(paths, service, statement),
    admin(instance, method, adminPath, body) {
      const found = faults.instances.find((i) => i.name === instance);
      if (!found) throw new UsageError(`unknown instance "${instance}"`);
      return adminRequest(faults, found, method, adminPath, body);
    },
    answer: parts.answer,
    rules: {
      file,
      labDir: LAB_RULES_DIR,
      write(text, options = {}) {
        if (options.keep && fs.existsSync(file)) return;
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, text);
      },
      check: (ruleFile) => checkRules(mode, ruleFile),
      test: (spec) => testRules(mode, spec),
      load: () => loadLearnerRules(paths, mode),
    },
    progress,
  };
}
