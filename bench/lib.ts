import autocannon from 'autocannon';
import fs from 'node:fs';
import os from 'node:os';

/** GET that answers undefined while nothing listens yet. */
export const tryFetch = (url: string) => fetch(url).catch(() => undefined);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Printed before every measurement: the cores are shared with other work. */
export function loadAverage(): string {
  return `load ${os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')}`;
}

export function machine(): string {
  const gib = os.totalmem() / 2 ** 30;
  return `${os.cpus().length} cores, ${gib.toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
}

export interface Memory {
  rss: number; // MiB the process has resident, counting in full the pages it shares with others
  pss: number; // MiB of its proportional share: each shared page divided among the processes mapping it
}

/**
 * Resident memory from /proc (what the kernel holds for the process, not what V8 reports). Every
 * Node process maps the same ~50 MiB node binary, so a sum of RSS counts those pages once per
 * process; a sum of PSS counts each page once, which is what the processes together take from RAM.
 */
export function memoryMiB(pid: number): Memory {
  const field = (file: string, name: string) => {
    const kb = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(fs.readFileSync(`/proc/${pid}/${file}`, 'utf8'));
    return kb ? Number(kb[1]) / 1024 : 0;
  };
  return { rss: field('status', 'VmRSS'), pss: field('smaps_rollup', 'Pss') };
}

/** Polls until `probe` returns a value; a probe that throws ends the wait (it knows it is hopeless). */
export async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: nothing after ${timeoutMs} ms`);
    await sleep(250);
  }
}

export interface Run {
  rps: number;
  p50: number;
  p99: number;
  failed: number; // non-2xx answers, errors and timeouts
}

export interface Load {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  idReplacement?: boolean; // `[<id>]` in headers and body becomes a fresh id per request
  overallRate?: number; // requests per second in all, instead of as many as the connections take
}

/** One bounded autocannon run over loopback. */
export async function hammer(load: Load, seconds: number): Promise<Run> {
  const result = await autocannon({ ...load, duration: seconds });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed: result.non2xx + result.errors + result.timeouts,
  };
}

export interface Pair {
  a: Run;
  b: Run;
}

/**
 * A and B alternately (A, B, A, B...), so that whatever else the machine does lands on both;
 * each figure is the median of its runs. A short warm-up of each first (JIT, caches, pools).
 */
export async function interleaved(a: Load, b: Load, rounds: number, seconds: number): Promise<Pair> {
  await hammer(a, 2);
  await hammer(b, 2);
  const runs: { a: Run[]; b: Run[] } = { a: [], b: [] };
  for (let i = 0; i < rounds; i++) {
    for (const side of ['a', 'b'] as const) {
      const before = loadAverage();
      const run = await hammer(side === 'a' ? a : b, seconds);
      console.log(
        `    ${side.toUpperCase()} ${before}: ${run.rps.toFixed(0)} req/s, p50 ${run.p50} ms, p99 ${run.p99} ms, ${run.failed} failed`,
      );
      runs[side].push(run);
    }
  }
  const summary = (list: Run[]): Run => ({
    rps: median(list.map((r) => r.rps)),
    p50: median(list.map((r) => r.p50)),
    p99: median(list.map((r) => r.p99)),
    failed: list.reduce((sum, r) => sum + r.failed, 0),
  });
  return { a: summary(runs.a), b: summary(runs.b) };
}

export function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((row) => row.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  return cells
    .map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '))
    .join('\n');
}
