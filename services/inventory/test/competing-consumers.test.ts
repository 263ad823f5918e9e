import {
  connectBroker,
  metricValue,
  orderCreated,
  fetchReservation,
  startInventory,
  fetchStock,
  uniqueTopology,
  until,
} from './support';

const RESERVED = 'inventory_reservations_total{outcome="reserved"}';

describe('two inventory instances on one work queue (MariaDB, RabbitMQ)', () => {
  const topology = uniqueTopology();
  let instances: Array<Awaited<ReturnType<typeof startInventory>>>;
  let broker: Awaited<ReturnType<typeof connectBroker>>;

  beforeAll(async () => {
    instances = await Promise.all([
      startInventory({ ...topology, prefetch: 2 }),
      startInventory({ ...topology, prefetch: 2 }),
    ]);
    broker = await connectBroker();
  });
  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    await broker.deleteTopology(topology);
    await broker.close();
  });

  it('split the messages between them and apply each exactly once', async () => {
    const base = instances[0].base;
    const before = await fetchStock(base, 20);
    const events = Array.from({ length: 20 }, () => orderCreated([{ productId: 20, quantity: 1, priceCents: 100 }]));
    for (const event of events) await broker.publish(topology.exchange, 'order.created', event);
    const reservedBy = async () => Promise.all(instances.map(async (i) => metricValue(await i.metrics(), RESERVED)));
    await until(async () => (await reservedBy()).reduce((a, b) => a + b, 0) === 20);
    const [first, second] = await reservedBy();
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(0);
    for (const event of events) {
      expect((await fetchReservation(base, event.order.id))?.status).toBe('reserved');
    }
    expect(await fetchStock(base, 20)).toBe(before - 20);
  });
});
