import { EPHEMERAL_PORTS, portsOf, TEST_LABS } from './test-labs';

const labs = Object.entries(TEST_LABS);

describe('the table of the labs the tests start', () => {
  it('gives no two labs a common port', () => {
    const owner = new Map<number, string>();
    const clashes = labs.flatMap(([name, lab]) =>
      portsOf(lab).flatMap((port) => {
        const other = owner.get(port);
        owner.set(port, name);
        return other ? [`${name} and ${other} both use ${port}`] : [];
      }),
    );
    expect(clashes).toEqual([]);
  });

  it('gives no two labs one schema prefix', () => {
    const prefixes = labs.map(([, lab]) => lab.schemaPrefix);
    expect(prefixes.filter((p, i) => prefixes.indexOf(p) !== i)).toEqual([]);
  });

  it('puts no port in the ephemeral range', () => {
    const inRange = labs.flatMap(([name, lab]) =>
      portsOf(lab)
        .filter((port) => port >= EPHEMERAL_PORTS.from && port <= EPHEMERAL_PORTS.to)
        .map((port) => `${name}: ${port}`),
    );
    expect(inRange).toEqual([]);
  });
});
