import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../src/errors';
import { detectMode } from '../src/mode';

describe('mode detection', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-mode-'));
  const fakeDocker = (exitCode: number) => {
    const file = path.join(dir, `docker-${exitCode}`);
    fs.writeFileSync(file, `#!/bin/sh\nexit ${exitCode}\n`, { mode: 0o755 });
    return file;
  };

  it('takes LAB_MODE over what it would detect', () => {
    expect(detectMode({ LAB_MODE: 'native' }, fakeDocker(0)).mode).toBe('native');
    expect(detectMode({ LAB_MODE: 'docker' }, fakeDocker(1)).mode).toBe('docker');
  });

  it('rejects a LAB_MODE it does not know', () => {
    expect(() => detectMode({ LAB_MODE: 'kubernetes' })).toThrow(UsageError);
  });

  it('picks native when the docker client is absent or no engine answers', () => {
    expect(detectMode({}, path.join(dir, 'no-such-docker')).mode).toBe('native');
    expect(detectMode({}, fakeDocker(1)).mode).toBe('native');
  });

  it('picks docker when `docker info` succeeds', () => {
    expect(detectMode({}, fakeDocker(0))).toEqual({ mode: 'docker', reason: 'a Docker engine answers' });
  });
});
