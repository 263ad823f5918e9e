import { metric, startDouble, startGateway, upstreamTable, type Double, type Running } from './gateway';
import { eventually } from '../../../test/support/eventually';

describe('client-side load balancing over catalog replicas', () => {
  let one: Double;
  let two: Double;
  let gateway: Running;

  beforeAll(async () => {
    [one, two] = await Promise.all([startDouble(), startDouble()]);
    gateway = await startGateway({ urls: { catalog: [one.url, two.url] } });
  });
  afterAll(async () => {
    await gateway.stop();
    await Promise.all([one.close(), two.close()]);
  });

  const instance = (double: Double) => new URL(double.url).host;
  const catalogReplicas = async () => {
    const table = await upstreamTable(gateway.base);
    return table.upstreams.find((upstream) => upstream.name === 'catalog')?.replicas ?? [];
  };

  it('alternates between healthy replicas and names the one that answered', async () => {
    const answeredBy: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const res = await fetch(`${gateway.base}/api/products/${i + 1}`);
      expect(res.status).toBe(200);
      answeredBy.push(res.headers.get('x-upstream-instance') ?? '');
    }
    expect(new Set(answeredBy)).toEqual(new Set([instance(one), instance(two)]));
    for (let i = 1; i < answeredBy.length; i += 1) expect(answeredBy[i]).not.toBe(answeredBy[i - 1]);
    expect(one.seen.length).toBe(3);
    expect(two.seen.length).toBe(3);
  });

  it('loses no GET when a replica dies: retries go to the other, then the health check takes it out', async () => {
    const port = two.port;
    await two.close();
    const statuses: number[] = [];
    // Straight after the kill, before any health check has run: every GET must still succeed.
    for (let i = 0; i < 4; i += 1) statuses.push((await fetch(`${gateway.base}/api/products`)).status);
    await eventually('replica two marked unhealthy', 5_000, async () =>
      (await catalogReplicas()).some((r) => r.instance === instance(two) && !r.healthy),
    );
    for (let i = 0; i < 4; i += 1) {
      const res = await fetch(`${gateway.base}/api/products`);
      statuses.push(res.status);
      expect(res.headers.get('x-upstream-instance')).toBe(instance(one));
    }
    expect(statuses.every((status) => status === 200)).toBe(true);
    const replicas = await catalogReplicas();
    expect(replicas.find((r) => r.instance === instance(two))?.consecutiveFailures).toBeGreaterThan(0);
    expect(await metric(gateway.base, `gateway_upstream_healthy{upstream="catalog",replica="${instance(two)}"}`)).toBe(
      0,
    );
    expect(await metric(gateway.base, `gateway_upstream_healthy{upstream="catalog",replica="${instance(one)}"}`)).toBe(
      1,
    );

    // Back on the same port: one passing check puts it back in rotation.
    two = await startDouble(undefined, port);
    await eventually('every replica healthy with no failure counted', 5_000, async () =>
      (await catalogReplicas()).every((r) => r.healthy && r.consecutiveFailures === 0),
    );
    const answeredBy = new Set<string | null>();
    for (let i = 0; i < 4; i += 1)
      answeredBy.add((await fetch(`${gateway.base}/api/products`)).headers.get('x-upstream-instance'));
    expect(answeredBy).toEqual(new Set([instance(one), instance(two)]));
  });

  it('takes a replica that reports not ready out after two failed checks', async () => {
    one.ready = false;
    await eventually('replica one marked unhealthy', 5_000, async () =>
      (await catalogReplicas()).some((r) => r.instance === instance(one) && !r.healthy),
    );
    expect(
      (await catalogReplicas()).find((r) => r.instance === instance(one))?.consecutiveFailures,
    ).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < 3; i += 1) {
      expect((await fetch(`${gateway.base}/api/products`)).headers.get('x-upstream-instance')).toBe(instance(two));
    }
    one.ready = true;
    await eventually('every replica healthy again', 5_000, async () =>
      (await catalogReplicas()).every((r) => r.healthy),
    );
  });

  it('tries every replica anyway when none is healthy (fail open)', async () => {
    one.ready = false;
    two.ready = false;
    await eventually('every replica marked unhealthy', 5_000, async () =>
      (await catalogReplicas()).every((r) => !r.healthy),
    );
    const res = await fetch(`${gateway.base}/api/products`);
    expect(res.status).toBe(200);
    one.ready = true;
    two.ready = true;
  });
});
