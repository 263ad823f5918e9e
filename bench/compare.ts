// What a change costs or saves per request: two (or more) builds of the services side by side, the
// same load on each in turn, and the CPU time each process spent per request, read from /proc. On a
// shared machine req/s swings 2x between runs while CPU per request stays within ~5-10%, and at a
// fixed rate (--rate) every build does the same work per second, so batching cannot flatter one.
//   node bench/compare.ts snapshot DIR   copy this tree's build (services, lab) to DIR, runnable alone
//   node bench/compare.ts [--flow catalog|checkout] [--rate 250] [--rounds 4] [--seconds 8] [--port 61180]
//                         NAME=DIR[:off] ...   (NAME a-z; `off`: the bare variant of `make bench`)
import fs from 'node:fs';
import path from 'node:path';
import { hammer, loadAverage, median, table, type Load, type Run } from './lib.ts';
import { otlpSink, startServices, type Services } from './services.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const OFF = { OTEL_SDK_DISABLED: 'true', METRICS_ENABLED: 'false', LOG_LEVEL: 'warn' };

/** The build output of this tree, with a node_modules of links whose @shopnow/kit and lab are the copy's own. */
function snapshot(dir: string): void {
  for (const service of fs.readdirSync(path.join(ROOT, 'services'))) {
    for (const part of ['dist', 'migrations', 'package.json']) {
      const from = path.join(ROOT, 'services', service, part);
      if (fs.existsSync(from)) fs.cpSync(from, path.join(dir, 'services', service, part), { recursive: true });
    }
  }
  for (const part of ['dist', 'package.json'])
    fs.cpSync(path.join(ROOT, 'lab', part), path.join(dir, 'lab', part), { recursive: true });
  const modules = path.join(dir, 'node_modules');
  fs.mkdirSync(path.join(modules, '@shopnow'), { recursive: true });
  for (const entry of fs.readdirSync(path.join(ROOT, 'node_modules'))) {
    if (entry !== '@shopnow' && entry !== 'lab')
      fs.symlinkSync(path.join(ROOT, 'node_modules', entry), path.join(modules, entry));
  }
  fs.symlinkSync('../../services/kit', path.join(modules, '@shopnow/kit'));
  fs.symlinkSync('../lab', path.join(modules, 'lab'));
  console.log(`snapshot of ${ROOT} in ${dir}`);
}

/** CPU time (user + system) a process has used so far, in ms. */
function cpuMs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms
}

async function checkoutLoad(gateway: string, connections: number): Promise<Load> {
  const post = (route: string, body: unknown) =>
    fetch(`${gateway}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const credentials = { email: `compare-${Date.now()}@shopnow.test`, password: 'compare-password-1' };
  await post('/api/auth/register', { ...credentials, name: 'Compare' });
  const { token } = (await (await post('/api/auth/login', credentials)).json()) as { token: string };
  return {
    url: `${gateway}/api/orders`,
    method: 'POST',
    connections,
    idReplacement: true,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': '[<id>]' },
    body: JSON.stringify({ items: [{ productId: 1, quantity: 1 }] }),
  };
}

async function compare(argv: string[]): Promise<void> {
  const option = (name: string, fallback: string) => {
    const at = argv.indexOf(`--${name}`);
    return at >= 0 ? argv.splice(at, 2)[1] : fallback;
  };
  const flow = option('flow', 'catalog');
  const rate = Number(option('rate', '0'));
  const rounds = Number(option('rounds', '4'));
  const seconds = Number(option('seconds', '8'));
  const port = Number(option('port', '61180'));
  const builds = argv.map((spec) => /^([a-z]+)=([^:]+)(:off)?$/.exec(spec) ?? usage(`not NAME=DIR[:off]: ${spec}`));
  if (builds.length === 0) usage('name at least one build');
  const sink = await otlpSink(port + 95);
  const running: Array<Services & { name: string }> = [];
  try {
    for (const [i, [, name, dir, off]] of builds.entries()) {
      const services = await startServices({
        name,
        basePort: port + 100 * i,
        root: path.resolve(dir),
        only: flow === 'catalog' ? ['gateway', 'catalog-1', 'catalog-2'] : undefined,
        env: off ? OFF : { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port + 95}` },
        logFile: path.join(fs.mkdtempSync('/tmp/compare-'), `${name}.log`),
      });
      running.push({ ...services, name });
      console.log(`${name}: ${dir}${off ? ' (telemetry off)' : ''} on ${port + 100 * i}`);
    }
    const loads: Load[] = [];
    for (const { gateway } of running) {
      const load =
        flow === 'catalog' ? { url: `${gateway}/api/products/1`, connections: 20 } : await checkoutLoad(gateway, 10);
      loads.push(rate ? { ...load, overallRate: rate } : load);
      await hammer(loads[loads.length - 1], 2); // warm-up
    }
    const runs = running.map(() => [] as Array<Run & { cpu: Record<string, number> }>);
    for (let round = 0; round < rounds; round++) {
      for (const [i, { name, pids }] of running.entries()) {
        const before = loadAverage();
        const start = Object.fromEntries(Object.entries(pids).map(([instance, pid]) => [instance, cpuMs(pid)]));
        const run = await hammer(loads[i], seconds);
        const requests = Math.max(1, run.rps * seconds);
        const cpu = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, (cpuMs(pid) - start[n]) / requests]));
        runs[i].push({ ...run, cpu });
        const perProcess = Object.entries(cpu).map(([n, ms]) => `${n} ${ms.toFixed(2)}`);
        console.log(
          `  ${name} ${before}: ${run.rps.toFixed(0)} req/s, ${run.failed} failed; CPU ms/req ${perProcess.join(', ')}`,
        );
      }
    }
    const instances = Object.keys(running[0].pids);
    const rows = running.map(({ name }, i) => {
      const cpu = (n: string) => median(runs[i].map((run) => run.cpu[n]));
      return [
        name,
        median(runs[i].map((run) => run.rps)).toFixed(0),
        median(runs[i].map((run) => run.p50)),
        runs[i].reduce((sum, run) => sum + run.failed, 0),
        ...instances.map((n) => cpu(n).toFixed(3)),
        instances.reduce((sum, n) => sum + cpu(n), 0).toFixed(3),
      ];
    });
    console.log(`\nMedians, ${flow}${rate ? ` at ${rate} req/s` : ', as fast as it goes'}, ${loadAverage()}`);
    console.log(table(['build', 'req/s', 'p50 ms', 'failed', ...instances.map((n) => `${n} ms`), 'total ms'], rows));
  } finally {
    await Promise.all(running.map((services) => services.stop()));
    sink.close();
  }
}

function usage(problem: string): never {
  console.error(
    `${problem}\nusage: node bench/compare.ts snapshot DIR | [--flow catalog|checkout] [--rate N] NAME=DIR[:off] ...`,
  );
  process.exit(2);
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'snapshot') {
  if (!rest[0] || fs.existsSync(rest[0])) usage('snapshot needs a directory that does not exist yet');
  snapshot(path.resolve(rest[0]));
} else {
  compare(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
