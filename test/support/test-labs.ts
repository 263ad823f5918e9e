/**
 * Every lab the tests start, in one table: the test file, its base port (each lab port is the
 * default one moved by `basePort - 8080`) and the prefix of its schemas, queues and Redis keys.
 * Jest runs files side by side, so no two labs may share a port or a prefix; and no port may sit
 * in Linux's ephemeral range, where any outgoing connection can hold it first (it happened:
 * EADDRINUSE for minutes). test-labs.unit.test.ts checks both; a new test that starts a lab adds a row.
 * Not in the table, as they start no lab: the telemetry store's own tests (lab/test/store*.test.ts)
 * run a bare store on ports 14310-14341 (OTLP on an even port, its query API on the next one).
 */
import { labPaths } from '../../lab/src/core/paths';
import { components } from '../../lab/src/core/topology';

export interface TestLab {
  basePort: number;
  /** Lite labs: LAB_SCHEMA_PREFIX. Stacks (test/support/stack.ts): their own `e2e<basePort>_` schemas. */
  schemaPrefix: string;
}

const stack = (basePort: number): TestLab => ({ basePort, schemaPrefix: `e2e${basePort}_` });

export const TEST_LABS = {
  // lite labs (`lab up` in a LAB_HOME of their own); lite-mode is the learner's lab, on the defaults
  'lite-mode': { basePort: 8080, schemaPrefix: '' },
  'faults-lite': { basePort: 2380, schemaPrefix: 'faultlab_' },
  'exercises-lite': { basePort: 2880, schemaPrefix: 'ex_' },
  'exercises-04': { basePort: 61080, schemaPrefix: 'exa_' },
  'exercises-05-06': { basePort: 4080, schemaPrefix: 'exs_' },
  'exercises-07': { basePort: 2280, schemaPrefix: 'exm_' },
  'exercises-08': { basePort: 23080, schemaPrefix: 'exh_' },
  'exercises-09': { basePort: 25080, schemaPrefix: 'exi_' },
  'exercises-10': { basePort: 30080, schemaPrefix: 'exj_' },
  'exercises-11': { basePort: 2480, schemaPrefix: 'exn_' },
  'exercises-12': { basePort: 63080, schemaPrefix: 'exc_' },
  'exercises-13': { basePort: 2080, schemaPrefix: 'exk_' },
  'exercises-14': { basePort: 2580, schemaPrefix: 'exo_' },
  'exercises-15': { basePort: 2180, schemaPrefix: 'exl_' },
  'exercises-16': { basePort: 2680, schemaPrefix: 'exp_' },
  'exercises-17': { basePort: 2780, schemaPrefix: 'exq_' },
  'exercises-18': { basePort: 2980, schemaPrefix: 'exr_' },
  'exercises-integrity': { basePort: 5180, schemaPrefix: 'exz_' },
  // a supervisor with stand-ins for the catalog instances (lab/test/config.unit.test.ts)
  'config-set': { basePort: 5280, schemaPrefix: 'cfg_' },
  // stacks of service processes (test/support/stack.ts)
  faults: stack(28080),
  checkout: stack(18080),
  'broker-cut': stack(21080),
  'mysql-cut': stack(21180),
  'redis-cut': stack(21280),
  'replica-kill': stack(21380),
  'consumer-kill': stack(21480),
  fuzz: stack(21580),
  security: stack(21680),
} satisfies Record<string, TestLab>;

export type TestLabName = keyof typeof TEST_LABS;

/** The ports a lab on `basePort` listens on, from the lab's own topology. */
export const portsOf = (lab: TestLab): number[] =>
  components({ paths: labPaths({ LAB_HOME: '/nonexistent' }), env: {}, basePort: lab.basePort }).flatMap((c) => [
    c.port,
    ...(c.otherPorts ?? []),
  ]);

export const EPHEMERAL_PORTS = { from: 32768, to: 60999 }; // /proc/sys/net/ipv4/ip_local_port_range
