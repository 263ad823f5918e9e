import { api } from '../support/client';
import { record, sample, scrape, sleep, startProxiedStack, type ProxiedStack } from './harness';
import { eventually } from '../support/eventually';
import { TEST_LABS } from '../support/test-labs';

/**
 * A catalog replica dies (SIGKILL) under read load, then every replica is restarted one at a time
 * (SIGTERM, wait for readiness): the gateway's health checks and its retry of idempotent GETs on
 * the other replica keep every read answered.
 */
jest.setTimeout(150_000);

const READERS = 4;
let lab: ProxiedStack;

beforeAll(async () => {
  lab = await startProxiedStack({ basePort: TEST_LABS['replica-kill'].basePort });
});

afterAll(async () => {
  await lab?.stop();
});

/** Readers that GET product pages back to back until stopped, keeping every status they saw. */
function readLoad() {
  const statuses: number[] = [];
  const failures: string[] = [];
  let running = true;
  const readers = Array.from({ length: READERS }, async (_, reader) => {
    for (let i = 0; running; i += 1) {
      const path = i % 3 === 0 ? '/api/products?page=1&pageSize=5' : `/api/products/${((i + reader) % 50) + 1}`;
      const reply = await api(lab.stack.gateway, 'GET', path).catch((err: Error) => ({ status: 0, text: err.message }));
      statuses.push(reply.status);
      if (reply.status !== 200) failures.push(`${path}: ${reply.status} ${reply.text.slice(0, 120)}`);
    }
  });
  return {
    statuses,
    failures,
    async stop() {
      running = false;
      await Promise.all(readers);
    },
  };
}

const healthyInGateway = async (instance: string) => {
  const reply = await api(lab.stack.gateway, 'GET', '/gateway/upstreams');
  const { upstreams } = reply.json as {
    upstreams: { name: string; replicas: { instance: string; healthy: boolean }[] }[];
  };
  return upstreams.find((u) => u.name === 'catalog')?.replicas.find((r) => r.instance === instance)?.healthy;
};

const instanceOf = (name: string) => `127.0.0.1:${lab.stack.instance(name).port}`;

it('routes around a replica killed with SIGKILL, with no failed GET', async () => {
  const load = readLoad();
  await sleep(2_000);
  const killedAt = Date.now();
  expect(await lab.stack.kill('catalog-1', 'SIGKILL')).toBeNull();
  await eventually('the gateway to take catalog-1 out of rotation', 15_000, async () =>
    (await healthyInGateway(instanceOf('catalog-1'))) === false ? true : undefined,
  );
  const outOfRotationMs = Date.now() - killedAt;
  await sleep(3_000);
  await lab.stack.restart('catalog-1');
  await eventually('the gateway to take catalog-1 back', 15_000, async () =>
    (await healthyInGateway(instanceOf('catalog-1'))) ? true : undefined,
  );
  await sleep(1_000);
  await load.stop();
  const retries = sample(await scrape(lab.stack.gateway), 'gateway_retries_total', { outcome: 'retried' }) ?? 0;
  record('replica-sigkill', {
    gets: load.statuses.length,
    failedGets: load.failures.length,
    outOfRotationMs,
    gatewayRetries: retries,
  });
  expect(load.failures).toEqual([]);
  expect(load.statuses.length).toBeGreaterThan(100);
});

it('keeps every request answered through a SIGTERM rolling restart of every catalog replica', async () => {
  const load = readLoad();
  const started = Date.now();
  const exitCodes: Record<string, number | null> = {};
  for (const name of ['catalog-1', 'catalog-2']) {
    await sleep(1_000);
    exitCodes[name] = await lab.stack.kill(name, 'SIGTERM');
    await lab.stack.restart(name);
    await eventually(`the gateway to see ${name} healthy`, 15_000, async () =>
      (await healthyInGateway(instanceOf(name))) ? true : undefined,
    );
  }
  await sleep(1_000);
  await load.stop();
  record('rolling-restart', {
    requests: load.statuses.length,
    failedRequests: load.failures.length,
    durationMs: Date.now() - started,
    exitCodes,
  });
  expect(exitCodes).toEqual({ 'catalog-1': 0, 'catalog-2': 0 });
  expect(load.failures).toEqual([]);
});
