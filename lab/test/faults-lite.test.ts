/**
 * The faults that need a whole lab, driven through the CLI the way a learner (or an exercise)
 * does: bad-release (the supervisor restarts one instance as 2.0.0) and noisy-client (the traffic
 * generator's profile). A lite-mode lab from nothing in a temporary LAB_HOME, on its own ports
 * (the base port of its row in test/support/test-labs.ts), schemas (faultlab_*), exchange and queues, so it
 * runs beside lite-mode.test.ts; brought down at the end. Needs the real MySQL, Redis, RabbitMQ,
 * prometheus and prometheus-alertmanager.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { labPaths, ROOT } from '../src/core/paths';
import { alive, readPid, readPids } from '../src/core/runtime/processes';
import { TEST_LABS } from '../../test/support/test-labs';

const run = promisify(execFile);
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-faults-'));
const paths = labPaths({ LAB_HOME: home });
const { basePort, schemaPrefix } = TEST_LABS['faults-lite'];
const env = {
  ...process.env,
  LAB_HOME: home,
  LAB_BASE_PORT: String(basePort),
  LAB_SCHEMA_PREFIX: schemaPrefix,
  // Passed on to the services by the supervisor: a small history, and broker names of their own.
  SEED_ORDERS: '1000',
  EVENTS_EXCHANGE: 'faultlab.events',
  INVENTORY_QUEUE: 'faultlab.inventory',
  NOTIFICATIONS_QUEUE: 'faultlab.notifications',
  NO_COLOR: '1',
};
const at = (defaultPort: number) => `http://127.0.0.1:${defaultPort - 8080 + basePort}`;
const CATALOG_1 = at(8082);
const CATALOG_2 = at(8092);
const TRAFFIC = at(9464);

const lab = async (...args: string[]) => {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(ROOT, 'lab/bin/lab.js'), ...args], {
      env,
      timeout: 280_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

const version = async (base: string) =>
  /shopnow_build_info\{[^}]*version="([^"]+)"/.exec(await (await fetch(`${base}/metrics`)).text())?.[1];
const statuses = async (base: string, n: number) =>
  Promise.all(Array.from({ length: n }, async () => (await fetch(`${base}/products/1`)).status));
const environOf = (instance: string) => {
  const pid = readPid(path.join(paths.pids, `${instance}.pid`));
  return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
};

describe('bad-release and noisy-client in a lite-mode lab', () => {
  let recorded: number[] = [];
  let isUp = false;
  const requireUp = () => {
    if (!isUp) throw new Error('`lab up` did not succeed: see the first test');
  };

  afterAll(async () => {
    recorded = [...recorded, ...readPids(paths.pids).values(), readPid(paths.supervisorPid) ?? 0].filter(Boolean);
    expect((await lab('down')).code).toBe(0);
    expect(recorded.filter(alive)).toEqual([]);
  }, 60_000);

  it('comes up on its own ports', async () => {
    const up = await lab('up', '--mode', 'lite', '--json');
    if (up.code !== 0) throw new Error(`lab up exited ${up.code}:\n${up.stderr}`);
    isUp = true;
    recorded = [...readPids(paths.pids).values(), readPid(paths.supervisorPid) ?? 0];
    expect(await version(CATALOG_2)).toBe('1.0.0');
  }, 300_000);

  it('bad-release: one instance runs 2.0.0 and fails its share; clearing brings 1.0.0 back', async () => {
    requireUp();
    const inject = await lab(
      'fault',
      'inject',
      'bad-release',
      '--instance',
      'catalog-2',
      '--set',
      'errorShare=1',
      '--json',
    );
    if (inject.code !== 0) throw new Error(`inject exited ${inject.code}:\n${inject.stderr}`);
    expect(JSON.parse(inject.stdout)).toMatchObject({ name: 'bad-release', instances: ['catalog-2'] });
    expect(await version(CATALOG_2)).toBe('2.0.0');
    expect(environOf('catalog-2')).toEqual(
      expect.arrayContaining([
        'SERVICE_VERSION=2.0.0',
        'RELEASE_DEFECT_SHARE=1',
        expect.stringMatching(/^OTEL_RESOURCE_ATTRIBUTES=service\.version=2\.0\.0,/),
      ]),
    );
    expect(await statuses(CATALOG_2, 5)).toEqual([500, 500, 500, 500, 500]);
    // The other replica still runs the old release.
    expect(await version(CATALOG_1)).toBe('1.0.0');
    expect(await statuses(CATALOG_1, 3)).toEqual([200, 200, 200]);
    const active = JSON.parse((await lab('faults', '--json')).stdout) as {
      faults: Array<{ name: string; instance?: string }>;
    };
    expect(active.faults).toEqual([expect.objectContaining({ name: 'bad-release', instance: 'catalog-2' })]);

    expect((await lab('fault', 'clear', 'bad-release')).code).toBe(0);
    expect(await version(CATALOG_2)).toBe('1.0.0');
    expect(await statuses(CATALOG_2, 5)).toEqual([200, 200, 200, 200, 200]);
  }, 120_000);

  it('noisy-client: the generator runs the noisy profile until cleared', async () => {
    requireUp();
    const status = async () => (await (await fetch(`${TRAFFIC}/status`)).json()) as { profile: string; rate: number };
    const before = await status();
    expect((await lab('fault', 'inject', 'noisy-client', '--set', 'rate=60')).code).toBe(0);
    expect(await status()).toMatchObject({ profile: 'noisy', rate: 60 });
    expect((await lab('fault', 'clear', 'noisy-client')).code).toBe(0);
    expect(await status()).toMatchObject({ profile: before.profile, rate: before.rate });
  }, 60_000);

  it('reset puts everything back and waits until healthy; bad input exits 2', async () => {
    requireUp();
    expect((await lab('fault', 'inject', 'noisy-client')).code).toBe(0);
    expect((await lab('fault', 'inject', 'latency', '--service', 'orders', '--set', 'ms=100')).code).toBe(0);
    const reset = await lab('reset', '--json');
    expect(reset.code).toBe(0);
    expect(
      JSON.parse(reset.stdout)
        .cleared.map((c: { name: string }) => c.name)
        .sort(),
    ).toEqual(['latency', 'noisy-client']);
    expect(JSON.parse((await lab('faults', '--json')).stdout).faults).toEqual([]);
    const unknown = await lab('fault', 'inject', 'gremlins');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown fault "gremlins"/);
    const elsewhere = await lab('fault', 'inject', 'slow-provider', '--service', 'catalog');
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toMatch(/does not apply to catalog/);
  }, 200_000);
});
