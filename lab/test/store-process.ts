import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventually } from '../../test/support/eventually';

const ROOT = path.resolve(__dirname, '../..');
const MAIN = path.join(ROOT, 'lab/dist/components/store/main.js');

export interface StoreProcess {
  otlp: string;
  query: string;
  child: ChildProcess;
  output: string[];
  stop(): Promise<void>;
}

/** The telemetry store as the lab runs it: its built main.js, in a process of its own. */
export async function startStore(otlpPort: number, env: Record<string, string> = {}): Promise<StoreProcess> {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run make build first`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-store-'));
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      STORE_OTLP_PORT: String(otlpPort),
      STORE_QUERY_PORT: String(otlpPort + 1),
      STORE_DB: path.join(dir, 'telemetry.db'),
      STORE_FLUSH_MS: '50',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const store = {
    otlp: `http://127.0.0.1:${otlpPort}`,
    query: `http://127.0.0.1:${otlpPort + 1}`,
    child,
    output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  await eventually('the store ready', 15_000, async () => {
    if (child.exitCode !== null) throw new Error(`the store exited: ${output.join('')}`);
    return (await fetch(`${store.query}/health/ready`)).status === 200;
  });
  return store;
}

export type Protocol = 'protobuf' | 'json';
/** One checkout-like trace (a failed 400 ms server span, a 300 ms client child) and two log lines. */
export function sendCheckout(endpoint: string, service: string, protocol: Protocol, compression: 'gzip' | 'none') {
  const result = spawnSync(
    process.execPath,
    [path.join(__dirname, 'store-send.ts'), endpoint, service, protocol, compression],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 20_000,
    },
  );
  if (result.status !== 0) throw new Error(`store-send failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as { traceId: string; rootId: string; childId: string };
}
