import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readPid } from '../src/core/runtime/processes';
import { seal } from '../src/core/sealed';
import { supervise, type Plan } from '../src/core/runtime/supervisor';

const SECRET = 'a lab token';

/**
 * Deploys through the supervisor: a child starts with its overrides, and reload() restarts at
 * once (no backoff) exactly the children whose overrides changed, read from the sealed file.
 * Real child processes.
 */
const waitFor = async <T>(what: () => T | undefined, ms = 10_000): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = what();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('supervisor deploys', () => {
  let dir: string;
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  it('restarts only the child whose overrides changed, with them, and back without them', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-deploy-'));
    const overrides = path.join(dir, 'overrides.json');
    // Each start records the version it sees, then lives on.
    const component = (name: string) => ({
      name,
      command: process.execPath,
      args: ['-e', `console.log('version=' + (process.env.SERVICE_VERSION ?? 'none')); setInterval(() => {}, 1000)`],
      env: { SERVICE_VERSION: '1.0.0' },
      stopOrder: 0,
    });
    const plan: Plan = {
      cwd: dir,
      logs: path.join(dir, 'logs'),
      pids: path.join(dir, 'pids'),
      pidFile: path.join(dir, 'supervisor.pid'),
      // A long backoff: a restart that waited for it would time the test out.
      backoff: { initialMs: 60_000, maxMs: 60_000, resetAfterMs: 60_000 },
      overrides,
      secret: SECRET,
      components: [component('a'), component('b')],
    };
    const supervisor = supervise(plan, () => undefined);
    stop = supervisor.stop;
    const pid = (name: string) => readPid(path.join(dir, 'pids', `${name}.pid`));
    const versions = (name: string) =>
      fs
        .readFileSync(path.join(dir, 'logs', `${name}.log`), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('version='));
    const [a1, b1] = await waitFor(() => (pid('a') && pid('b') ? [pid('a'), pid('b')] : undefined));
    await waitFor(() => (versions('a').length ? true : undefined));

    supervisor.reload(); // nothing changed: nothing restarts
    fs.writeFileSync(overrides, JSON.stringify(seal(SECRET, { a: { release: { SERVICE_VERSION: '2.0.0' } } })));
    supervisor.reload();
    const a2 = await waitFor(() => (pid('a') && pid('a') !== a1 ? pid('a') : undefined));
    await waitFor(() => (versions('a').length === 2 ? true : undefined));
    expect(versions('a')).toEqual(['version=1.0.0', 'version=2.0.0']);
    expect(pid('b')).toBe(b1);

    fs.writeFileSync(overrides, JSON.stringify({}));
    supervisor.reload();
    await waitFor(() => (pid('a') && pid('a') !== a2 ? true : undefined));
    await waitFor(() => (versions('a').length === 3 ? true : undefined));
    expect(versions('a')[2]).toBe('version=1.0.0');
    expect(versions('b')).toEqual(['version=1.0.0']);
  }, 30_000);
});
