/**
 * The `lab` launcher as a learner types it: `--json` is one option of the program, read before or
 * after the subcommand. `lab fault list` needs no running lab, so nothing is started here.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../src/core/paths';

const exec = promisify(execFile);
const lab = async (...args: string[]) =>
  (
    await exec(process.execPath, [path.join(ROOT, 'lab/bin/lab.js'), ...args], {
      env: { ...process.env, NO_COLOR: '1' },
    })
  ).stdout;

describe('the lab CLI', () => {
  it('prints the same JSON with --json after the subcommand or before it', async () => {
    const after = JSON.parse(await lab('fault', 'list', '--json')) as { faults: Array<{ name: string }> };
    expect(after.faults.map((f) => f.name)).toContain('latency');
    expect(JSON.parse(await lab('--json', 'fault', 'list'))).toEqual(after);
  });

  it('prints text for a person without --json', async () => {
    expect(await lab('fault', 'list')).toMatch(/^FAULT\s+WHERE/);
  });

  it("lists --json among every command's global options", async () => {
    expect(await lab('status', '--help')).toMatch(/Global Options:\n\s+--json/);
  });

  it('refuses a mode it does not know with a usage error (exit 2)', async () => {
    await expect(lab('up', '--mode', 'kubernetes')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--mode must be full or lite'),
    });
  });

  it('refuses a trace id that is not hexadecimal, and a trace id with filters, naming the mistake (exit 2)', async () => {
    await expect(lab('traces', 'not-a-trace')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('a trace id is 32 hexadecimal digits'),
    });
    await expect(lab('traces', 'ab'.repeat(16), '--error')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('give a trace id or filters'),
    });
  });
});
