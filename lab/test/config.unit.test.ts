/**
 * `lab config set|show` through the CLI, with the real supervisor (lab/dist) running stand-ins
 * for the two catalog instances on the ports of its row in test/support/test-labs.ts: each answers
 * its CACHE_TTL_SECONDS, so the test sees what a redeploy gave every instance. A setting the
 * service documents is applied to both and kept through a restart and through a new supervisor;
 * any other is refused naming the allowed ones; `lab reset`'s redeploy drops it; the overrides
 * file never shows it in plain text. No backend needed.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { labFaultContext } from '../src/core/faults';
import { labPaths, ROOT } from '../src/core/paths';
import { alive, readPid } from '../src/core/runtime/processes';
import { labComponents } from '../src/core/runtime/stack';
import type { Plan } from '../src/core/runtime/supervisor';
import { eventually } from '../../test/support/eventually';
import { TEST_LABS } from '../../test/support/test-labs';

const exec = promisify(execFile);
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-config-'));
const env = {
  LAB_HOME: home,
  LAB_BASE_PORT: String(TEST_LABS['config-set'].basePort),
  LAB_MODE: 'lite',
  NO_COLOR: '1',
};
const paths = labPaths(env);
const catalog = labComponents(paths, env).filter((c) => c.job === 'catalog');

// Answers every request (its health checks too) with the cache TTL it was started with.
const STAND_IN = `require('node:http').createServer((q, s) => s.end(JSON.stringify({ ttl: process.env.CACHE_TTL_SECONDS ?? null })))
  .listen(Number(process.env.PORT), '127.0.0.1'); process.on('SIGTERM', () => process.exit(0));`;

async function lab(...args: string[]) {
  try {
    const { stdout } = await exec(process.execPath, [path.join(ROOT, 'lab/bin/lab.js'), ...args], {
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function startSupervisor() {
  const child = spawn(process.execPath, [path.join(ROOT, 'lab/dist/core/runtime/supervisor.js'), paths.plan], {
    stdio: 'ignore',
  });
  return child;
}

const ttls = async () =>
  Promise.all(catalog.map(async (c) => ((await (await fetch(c.url)).json()) as { ttl: string | null }).ttl));
const settled = (want: Array<string | null>) =>
  eventually(`every catalog instance with CACHE_TTL_SECONDS ${want[0]}`, 20_000, async () =>
    JSON.stringify(await ttls().catch(() => [])) === JSON.stringify(want) ? true : undefined,
  );

describe('lab config', () => {
  let supervisor: ReturnType<typeof startSupervisor>;
  beforeAll(async () => {
    fs.mkdirSync(paths.state, { recursive: true });
    fs.writeFileSync(paths.envFile, 'LAB_TOKEN=a-lab-token\n');
    const plan: Plan = {
      cwd: home,
      logs: paths.logs,
      pids: paths.pids,
      pidFile: paths.supervisorPid,
      overrides: paths.overrides,
      secret: 'a-lab-token',
      components: catalog.map((c) => ({
        name: c.name,
        command: process.execPath,
        args: ['-e', STAND_IN],
        env: { PORT: String(c.port) },
        stopOrder: 0,
      })),
    };
    fs.writeFileSync(paths.plan, JSON.stringify(plan));
    supervisor = startSupervisor();
    await settled([null, null]);
  }, 30_000);

  afterAll(async () => {
    const pid = readPid(paths.supervisorPid);
    supervisor.kill('SIGTERM');
    await eventually('the supervisor gone', 20_000, async () => (pid && alive(pid) ? undefined : true));
    fs.rmSync(home, { recursive: true, force: true });
  }, 30_000);

  it('shows the settings a service documents in .env.example, and refuses any other naming them', async () => {
    const shown = JSON.parse((await lab('config', 'show', 'catalog', '--json')).stdout) as {
      instances: string[];
      settings: Array<{ key: string; value: string; source: string }>;
    };
    expect(shown.instances).toEqual(['catalog-1', 'catalog-2']);
    expect(shown.settings).toEqual([
      expect.objectContaining({ key: 'MYSQL_POOL_SIZE', value: '10', source: 'default' }),
      expect.objectContaining({ key: 'CACHE_TTL_SECONDS', value: '60', source: 'default' }),
    ]);

    const refused = await lab('config', 'set', 'catalog', 'SEED_ORDERS=5');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'catalog does not document SEED_ORDERS in .env.example; it takes: MYSQL_POOL_SIZE, CACHE_TTL_SECONDS',
    );
    const other = await lab('config', 'set', 'inventory', 'CACHE_TTL_SECONDS=5');
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('it takes: MYSQL_POOL_SIZE');
    expect((await lab('config', 'set', 'catalogue', 'CACHE_TTL_SECONDS=5')).stderr).toContain('unknown service');
    expect(await ttls()).toEqual([null, null]);
  });

  it('redeploys every instance with it, keeps it through restarts, and reset drops it', async () => {
    const set = await lab('config', 'set', 'catalog', 'CACHE_TTL_SECONDS=5', '--json');
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout).settings).toEqual([
      expect.objectContaining({ key: 'MYSQL_POOL_SIZE', value: '10', source: 'default' }),
      expect.objectContaining({ key: 'CACHE_TTL_SECONDS', value: '5', source: 'lab config set' }),
    ]);
    expect(await ttls()).toEqual(['5', '5']); // both redeployed before the command returned
    expect(fs.readFileSync(paths.overrides, 'utf8')).not.toContain('CACHE_TTL');

    expect((await lab('restart', 'catalog-2')).code).toBe(0);
    expect(await ttls()).toEqual(['5', '5']);

    // A new supervisor (a `lab down` and `lab up` keep .lab/) starts them with it too.
    const pid = readPid(paths.supervisorPid);
    supervisor.kill('SIGTERM');
    await eventually('the supervisor gone', 20_000, async () => (pid && alive(pid) ? undefined : true));
    supervisor = startSupervisor();
    await settled(['5', '5']);

    // What `lab reset` does for every instance: deployed as planned, config included.
    const faults = labFaultContext(paths, env);
    for (const c of catalog) await faults.deploy?.(c.name, undefined, 'all');
    expect(await ttls()).toEqual([null, null]);
    expect(JSON.parse((await lab('config', 'show', 'catalog', '--json')).stdout).settings[0].source).toBe('default');
  }, 60_000);
});
