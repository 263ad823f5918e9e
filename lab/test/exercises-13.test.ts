/**
 * Exercise 13 (the trace that stops at the broker) end to end in lite mode: a lab from nothing
 * (ports from the base port of its row in test/support/test-labs.ts, schemas, queues and Redis keys prefixed exk_), `lab start` ->
 * `lab check` fails -> the reference solution -> `lab check` passes -> `lab reset` leaves every
 * service healthy and every fault gone; with the adversarial cases: wrong service and hop fail, a
 * healthy checkout's trace is refused as evidence, the right answers with the fault on fail the
 * fix probe, stopped traffic never passes. broken-propagation exists in orders only, so no seed
 * changes the answers. Needs the real MySQL, Redis and RabbitMQ, Debian's prometheus and
 * prometheus-alertmanager, ports 2080-3464 free, and a build (`npx tsc -b`).
 */
import { gatewayShop } from '../src/exercises/shop';
import { exerciseLab, item } from './exercise-lab';
import { eventually } from '../../test/support/eventually';

const lab = exerciseLab('exercises-13');
const shop = gatewayShop(lab.gateway);

/** A paid checkout of one product, placed by the test as a customer would. */
async function checkout() {
  const customer = await shop.customer();
  const [product] = await shop.products(1);
  for (;;) {
    const order = await shop.checkout(customer, [{ productId: product.id, quantity: 1 }]);
    if (order.status === 'paid') return order;
  }
}

describe('exercise 13 in lite mode', () => {
  beforeAll(() => lab.up(10), 300_000);
  afterAll(() => lab.down(), 90_000);

  it('a healthy trace is refused; the fault on fails the probe; the fixed relay passes', async () => {
    // Before the fault: a checkout whose trace reaches both consumers.
    const healthy = await checkout();
    await eventually('the consumers to log the healthy checkout', 30_000, async () => {
      const lines = ['inventory', 'notifications'].map(
        async (service) => (await lab.cli(['logs', service, '--trace', healthy.traceId, '--json'])).stdout,
      );
      return (await Promise.all(lines)).every((out) => out.includes(healthy.id)) ? true : undefined;
    });

    const { target } = await lab.start('13', 13);
    expect((await lab.check('13')).code).toBe(1);
    await lab.cli(['answer', '13', 'service=inventory', 'hop=consume', `trace=${healthy.traceId}`]);
    const wrong = (await lab.check('13')).result;
    expect(item(wrong, 'diagnosis/service')?.passed).toBe(false);
    expect(item(wrong, 'diagnosis/hop')?.passed).toBe(false);
    expect(item(wrong, 'evidence/trace')).toMatchObject({
      passed: false,
      message: expect.stringContaining('did join'),
    });

    const broken = await checkout();
    await lab.cli(['answer', '13', 'service=orders', 'hop=outbox relay', `trace=${broken.traceId}`]);
    const faultOn = await lab.check('13');
    expect(faultOn.code).toBe(1);
    expect(item(faultOn.result, 'diagnosis/service')?.passed).toBe(true);
    expect(item(faultOn.result, 'diagnosis/hop')?.passed).toBe(true);
    expect(item(faultOn.result, 'evidence/trace')?.passed).toBe(true);
    expect(item(faultOn.result, 'fix/traffic')?.passed).toBe(true);
    expect(item(faultOn.result, 'fix/propagation')).toMatchObject({
      passed: false,
      message: expect.stringContaining('shows nothing from inventory, notifications'),
    });

    await lab.solve('13', target);
    await lab.expectPass('13', '60s');
    await lab.expectTrafficStoppedFails('13', 'fix/propagation');
    await lab.expectCleanLab();
  }, 400_000);
});
