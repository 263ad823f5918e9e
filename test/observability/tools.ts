import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { parse } from 'yaml';

export const OBSERVABILITY = path.resolve(__dirname, '../../observability');
export const PROMETHEUS_DIR = path.join(OBSERVABILITY, 'prometheus');
export const RULES_DIR = path.join(PROMETHEUS_DIR, 'rules');
export const ALERTMANAGER_CONFIG = path.join(OBSERVABILITY, 'alertmanager/alertmanager.yml');

export const readYaml = <T>(file: string): T => parse(readFileSync(file, 'utf8')) as T;

/** Rule files and their promtool tests, by file name, in rules/. */
export const ruleFiles = () => readdirSync(RULES_DIR).filter((file) => file.endsWith('.rules.yml'));
export const ruleTestFiles = () => readdirSync(RULES_DIR).filter((file) => file.endsWith('.test.yml'));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (promtool, amtool), bounded by a timeout. */
export function run(command: string, args: string[], cwd = OBSERVABILITY): Run {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A port nothing listens on right now, for a daemon started by a test. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface Daemon {
  output: () => string;
  stop: () => Promise<void>;
}

/** Starts a long-running process (Prometheus, Alertmanager); stop() ends it by its own pid. */
export function startDaemon(command: string, args: string[], cwd: string): Daemon {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
