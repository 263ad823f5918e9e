import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../src/core/errors';
import { currentMode, detectMode, parseMode } from '../src/core/mode';
import { labPaths } from '../src/core/paths';

describe('mode detection', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-mode-'));
  const fakeDocker = (exitCode: number) => {
    const file = path.join(dir, `docker-${exitCode}`);
    fs.writeFileSync(file, `#!/bin/sh\nexit ${exitCode}\n`, { mode: 0o755 });
    return file;
  };

  it('takes LAB_MODE over what it would detect', () => {
    expect(detectMode({ LAB_MODE: 'lite' }, fakeDocker(0)).mode).toBe('lite');
    expect(detectMode({ LAB_MODE: 'full' }, fakeDocker(1)).mode).toBe('full');
  });

  it('accepts the old names, docker and native, for full and lite', () => {
    expect(detectMode({ LAB_MODE: 'native' }, fakeDocker(0)).mode).toBe('lite');
    expect(detectMode({ LAB_MODE: 'docker' }, fakeDocker(1)).mode).toBe('full');
    expect(parseMode('Native')).toBe('lite');
  });

  it('rejects a LAB_MODE it does not know, naming the words it takes', () => {
    expect(() => detectMode({ LAB_MODE: 'kubernetes' })).toThrow(UsageError);
    expect(() => detectMode({ LAB_MODE: 'kubernetes' })).toThrow(/LAB_MODE must be full or lite/);
  });

  it('picks lite when the docker client is absent or no engine answers', () => {
    expect(detectMode({}, path.join(dir, 'no-such-docker')).mode).toBe('lite');
    expect(detectMode({}, fakeDocker(1)).mode).toBe('lite');
  });

  it('picks full when `docker info` succeeds', () => {
    expect(detectMode({}, fakeDocker(0))).toEqual({ mode: 'full', reason: 'a Docker engine answers' });
  });

  it('reads the mode `lab up` recorded, in the old words too (a lab brought up before the rename)', () => {
    const paths = labPaths({ LAB_HOME: fs.mkdtempSync(path.join(dir, 'home-')) });
    fs.mkdirSync(paths.state, { recursive: true });
    fs.writeFileSync(paths.mode, 'native\n');
    expect(currentMode(paths, {})).toBe('lite');
    fs.writeFileSync(paths.mode, 'full\n');
    expect(currentMode(paths, {})).toBe('full');
  });
});
