import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FaultContext } from '../src/core/faults';
import { readLabFaults, writeLabFaults } from '../src/core/faults/lab-faults';
import { seal, unseal } from '../src/core/sealed';

/** The lab's records of what it broke: readable by the lab with its secret, by nobody in plain text. */
describe('sealed lab records', () => {
  it('give back what was sealed with the same secret only', () => {
    const sealed = seal('the lab token', { catalog: { release: { SERVICE_VERSION: '2.0.0' } } });
    expect(JSON.stringify(sealed)).not.toContain('SERVICE_VERSION');
    expect(unseal('the lab token', sealed)).toEqual({ catalog: { release: { SERVICE_VERSION: '2.0.0' } } });
    expect(() => unseal('another token', sealed)).toThrow();
  });

  it('keep the lab-side faults out of sight in .lab/faults.json', () => {
    const stateFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lab-sealed-')), 'faults.json');
    const ctx = { labToken: 'the lab token', stateFile } as FaultContext;
    const fault = { name: 'bad-release' as const, target: 'catalog-2', options: { errorShare: 0.15 }, since: 'now' };
    writeLabFaults(ctx, [fault]);
    const text = fs.readFileSync(stateFile, 'utf8');
    for (const giveaway of ['bad-release', 'catalog-2', 'errorShare']) expect(text).not.toContain(giveaway);
    expect(readLabFaults(ctx)).toEqual([fault]);
    // A file the lab wrote before it sealed them is still read.
    fs.writeFileSync(stateFile, JSON.stringify([fault]));
    expect(readLabFaults(ctx)).toEqual([fault]);
  });
});
