import { eventually } from './eventually';

describe('eventually', () => {
  it('answers the first value the probe gives, after "not yet" answers (undefined, false, a throw)', async () => {
    const answers = [undefined, false, 'boom', 42];
    let calls = 0;
    const value = await eventually('the fourth answer', 2_000, () => {
      const next = answers[calls++];
      if (next === 'boom') throw new Error('refused');
      return next as number | undefined | false;
    });
    expect({ value, calls }).toEqual({ value: 42, calls: 4 });
  });

  it('fails at the deadline naming what it waited for and the last error', async () => {
    await expect(
      eventually('a backend that never answers', 100, () => {
        throw new Error('ECONNREFUSED');
      }),
    ).rejects.toThrow(
      'timed out after 0.1 s waiting for a backend that never answers (last error: Error: ECONNREFUSED)',
    );
  });
});
