import { randomUUID } from 'node:crypto';
import { api, bearer, send, type Reply } from '../support/client';
import { record, signUp, startProxiedStack, type ProxiedStack } from './harness';
import { eventually } from '../support/eventually';
import { TEST_LABS } from '../support/test-labs';

/**
 * MySQL away (every service's connections cut through its proxy): what needs the database answers
 * 503 with the JSON error, readiness turns 503, no process exits; once MySQL is back everything
 * serves again within 10 s, without a restart.
 */
jest.setTimeout(120_000);

const MYSQL_INSTANCES = ['auth', 'catalog-1', 'catalog-2', 'orders', 'payments', 'inventory', 'notifications'];

let lab: ProxiedStack;
let customer: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  lab = await startProxiedStack({ basePort: TEST_LABS['mysql-cut'].basePort });
  customer = await signUp(lab.stack.gateway, 'mysql-cut');
});

afterAll(async () => {
  await lab?.stop();
});

/** One request per endpoint that cannot answer without MySQL (search is never cached; product pages may be). */
async function dependentCalls(): Promise<Record<string, Reply>> {
  const { gateway } = lab.stack;
  return {
    'POST /api/auth/login': await api(gateway, 'POST', '/api/auth/login', {
      email: customer.email,
      password: customer.password,
    }),
    'GET /api/orders': await api(gateway, 'GET', '/api/orders', undefined, bearer(customer.token)),
    'GET /api/products/search': await api(gateway, 'GET', `/api/products/search?q=widget`),
    'POST /api/orders': await api(
      gateway,
      'POST',
      '/api/orders',
      { items: [{ productId: 1, quantity: 1 }] },
      { ...bearer(customer.token), 'idempotency-key': `mysql-cut-${randomUUID()}` },
    ),
  };
}

const readiness = async () =>
  Object.fromEntries(
    await Promise.all(
      MYSQL_INSTANCES.map(
        async (name) => [name, (await send(lab.stack.instance(name).url, 'GET', '/health/ready')).status] as const,
      ),
    ),
  );

it('answers 503 with a JSON error while MySQL is cut, and recovers within 10 s of its return', async () => {
  const before = await dependentCalls();
  expect(Object.values(before).map((reply) => reply.status)).toEqual([200, 200, 200, 201]);

  await lab.proxies.mysql.cut();
  // From the first request after the cut on (pooled connections just reset included): 503, never 500.
  const wrong: string[] = [];
  const started = Date.now();
  let rounds = 0;
  while (Date.now() - started < 3_000) {
    rounds += 1;
    for (const [call, reply] of Object.entries(await dependentCalls())) {
      const code = (reply.json as { error?: { code?: unknown } } | undefined)?.error?.code;
      if (reply.status !== 503 || typeof code !== 'string') wrong.push(`${call}: ${reply.status} ${reply.text}`);
    }
  }
  expect(wrong).toEqual([]);
  expect(Object.values(await readiness())).toEqual(MYSQL_INSTANCES.map(() => 503));
  // The gateway owns no data: it stays ready, and it answers for the others.
  expect((await send(lab.stack.gateway, 'GET', '/health/ready')).status).toBe(200);
  // Three seconds without the database (the loop above): still no process exits.
  for (const instance of lab.stack.instances)
    expect([instance.name, instance.child.exitCode]).toEqual([instance.name, null]);

  await lab.proxies.mysql.restore();
  const restoredAt = Date.now();
  let last = '';
  await eventually('every endpoint and readiness back after MySQL returned', 10_000, async () => {
    const ready = await readiness();
    const replies = await dependentCalls();
    last = JSON.stringify({
      ready,
      replies: Object.entries(replies).map(([call, r]) => `${call} ${r.status} ${r.text.slice(0, 80)}`),
    });
    const allReady = Object.values(ready).every((status) => status === 200);
    return allReady && Object.values(replies).every((reply) => reply.status < 300) ? true : undefined;
  }).catch((err: Error) => {
    throw new Error(`${err.message}; last seen: ${last}`);
  });
  const recoveryMs = Date.now() - restoredAt;
  for (const instance of lab.stack.instances) expect(instance.child.exitCode).toBeNull();
  record('mysql-cut', {
    requestsDuringCut: rounds * 4,
    non503DuringCut: wrong.length,
    recoveryMs,
    processExits: 0,
  });
});
