import { createRetryBudget } from '../src/retry-budget';

describe('the retry budget', () => {
  let clock = 0;
  const now = () => clock;

  it('allows the minimum in a quiet window, then 20% of the requests', () => {
    clock = 1_000_000;
    const budget = createRetryBudget({ ratio: 0.2, minPerWindow: 3, windowMs: 10_000 }, now);
    expect([budget.tryRetry(), budget.tryRetry(), budget.tryRetry(), budget.tryRetry()]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    for (let i = 0; i < 10; i += 1) budget.recordRequest();
    // 3 + 0.2 x 10 = 5 retries in the window: two more.
    expect([budget.tryRetry(), budget.tryRetry(), budget.tryRetry()]).toEqual([true, true, false]);
  });

  it('forgets what slid out of the window', () => {
    clock = 2_000_000;
    const budget = createRetryBudget({ ratio: 0, minPerWindow: 2, windowMs: 10_000 }, now);
    expect(budget.tryRetry()).toBe(true);
    clock += 5_000;
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    clock += 5_000; // the first retry is now more than 10 s old
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    clock += 60_000; // a long silence empties every slot
    expect([budget.tryRetry(), budget.tryRetry(), budget.tryRetry()]).toEqual([true, true, false]);
  });
});
