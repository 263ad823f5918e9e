import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadAverage, memoryMiB, sleep, tryFetch, until, type Load, type Memory, type Run } from './lib.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');

export interface LabFigures {
  coldSeconds: number;
  warmSeconds: number;
  memoryIdle: Record<string, Memory>;
  memoryLoaded: Record<string, Memory>;
  firstSample?: number; // seconds from fault injection to the first scraped 5xx
  firstRate?: number; // ... to a non-zero 5xx rate (two scrapes of the new series)
  page?: number; // ... to the page at the lab webhook
  pageAlert?: string;
}

/**
 * The lite lab as a learner runs it (`lab up`), in its own LAB_HOME, on other ports and schemas:
 * a cold start and a warm one, resident memory idle and under load, then how long a fault takes
 * to show in Prometheus and to page.
 */
export async function measureLab(options: {
  basePort: number;
  work: string;
  load: (base: string) => Load;
  hammer: (load: Load, seconds: number) => Promise<Run>;
}): Promise<LabFigures> {
  const home = path.join(options.work, 'lab-home');
  fs.mkdirSync(home);
  const env = {
    ...process.env,
    LAB_HOME: home,
    LAB_BASE_PORT: String(options.basePort),
    LAB_SCHEMA_PREFIX: 'bench_',
    LAB_MODE: 'lite',
    NO_COLOR: '1',
  };
  const lab = async (...args: string[]) => {
    const started = performance.now();
    await run(process.execPath, [path.join(ROOT, 'lab/bin/lab.js'), ...args], { env, cwd: ROOT });
    return (performance.now() - started) / 1000;
  };
  const url = (port: number) => `http://127.0.0.1:${port - 8080 + options.basePort}`;

  console.log(`\n3-5. Lite lab in ${home}, base port ${options.basePort}`);
  try {
    console.log(`  cold lab up (${loadAverage()})`);
    const coldSeconds = await lab('up');
    await lab('down');
    // A rate limit sized for a learner's clicks would answer the load below with 429s.
    fs.appendFileSync(path.join(home, '.env'), '\nRATE_LIMIT_POINTS=1000000\n');
    console.log(`  warm lab up (${loadAverage()})`);
    const warmSeconds = await lab('up');

    // Idle: the lab's own traffic generator at its default rate; settle first (first scrapes, caches).
    await sleep(20_000);
    const memory = () => {
      const pidsDir = path.join(home, '.lab/pids');
      const files = [
        path.join(home, '.lab/supervisor.pid'),
        ...fs.readdirSync(pidsDir).map((f) => path.join(pidsDir, f)),
      ];
      return Object.fromEntries(
        files.map((file) => [path.basename(file, '.pid'), memoryMiB(Number(fs.readFileSync(file, 'utf8')))]),
      );
    };
    console.log(`  resident memory idle (${loadAverage()})`);
    const memoryIdle = memory();
    console.log(`  resident memory under load: cached catalog GET for 6 s (${loadAverage()})`);
    const loading = options.hammer(options.load(url(8080)), 6);
    await sleep(5_000);
    const memoryLoaded = memory();
    await loading;

    const token = /^LAB_TOKEN=(.*)$/m.exec(fs.readFileSync(path.join(home, '.env'), 'utf8'))?.[1] ?? '';
    const figures: LabFigures = { coldSeconds, warmSeconds, memoryIdle, memoryLoaded };
    await sleep(10_000); // the load's own latency must not be what pages
    console.log(`  errors fault on orders, share 1 (${loadAverage()})`);
    const injected = Date.now();
    const since = () => (Date.now() - injected) / 1000;
    const fault = (method: string, body?: string) =>
      fetch(`${url(8083)}/admin/faults/errors`, {
        method,
        headers: { 'x-lab-token': token, 'content-type': 'application/json' },
        body,
      });
    const put = await fault('PUT', JSON.stringify({ share: 1 }));
    if (!put.ok) throw new Error(`fault injection answered ${put.status}: ${await put.text()}`);
    try {
      const query = async (promql: string) => {
        const res = await tryFetch(`${url(9090)}/api/v1/query?query=${encodeURIComponent(promql)}`);
        if (!res?.ok) return false;
        const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
        return body.data.result.length > 0 && Number(body.data.result[0].value[1]) > 0;
      };
      const errors = 'http_server_request_duration_seconds_count{job="orders",status_class="5xx"}';
      await until(
        async () => (figures.firstSample ??= (await query(`sum(${errors})`)) ? since() : undefined),
        60_000,
        'a 5xx sample',
      );
      figures.firstRate = await until(
        async () => ((await query(`sum(rate(${errors}[1m]))`)) ? since() : undefined),
        60_000,
        'a 5xx rate',
      );
      const page = await until(
        async () => {
          const res = await tryFetch(`${url(9099)}/pages`);
          if (!res?.ok) return undefined;
          const pages = (await res.json()) as {
            status: string;
            alertname: string;
            receivedAt: string;
          }[];
          return pages.find((p) => p.status === 'firing' && Date.parse(p.receivedAt) >= injected);
        },
        300_000,
        'a page',
      ).catch(() => undefined);
      if (page) {
        figures.page = (Date.parse(page.receivedAt) - injected) / 1000;
        figures.pageAlert = page.alertname;
      }
    } finally {
      await fault('DELETE');
    }
    return figures;
  } finally {
    await lab('down').catch(() => undefined);
  }
}
