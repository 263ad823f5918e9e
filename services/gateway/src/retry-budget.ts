export interface RetryBudgetSettings {
  /** Retries allowed as a share of requests in the window, e.g. 0.2. */
  ratio: number;
  /** Retries allowed in any window on top of the share, so that a quiet upstream can still be retried. */
  minPerWindow: number;
  windowMs: number;
}

const SLOTS = 10;

/**
 * A retry budget: retries may add at most `ratio` of the traffic (plus a few). Without it, every
 * client retrying against a struggling upstream multiplies its load (a retry storm) just when it
 * can least take it. Counts live in ten slots that slide over the window.
 */
export function createRetryBudget({ ratio, minPerWindow, windowMs }: RetryBudgetSettings, now = Date.now) {
  const slotMs = windowMs / SLOTS;
  const requests = new Array<number>(SLOTS).fill(0);
  const retries = new Array<number>(SLOTS).fill(0);
  let current = Math.floor(now() / slotMs);

  /** Empties the slots that slid out of the window since the last call. */
  function advance(): number {
    const slot = Math.floor(now() / slotMs);
    for (let s = current + 1; s <= Math.min(slot, current + SLOTS); s += 1) {
      requests[s % SLOTS] = 0;
      retries[s % SLOTS] = 0;
    }
    current = slot;
    return slot % SLOTS;
  }
  const sum = (counts: number[]) => counts.reduce((total, count) => total + count, 0);

  return {
    recordRequest(): void {
      requests[advance()] += 1;
    },
    /** Takes one retry from the budget, or says there is none left. */
    tryRetry(): boolean {
      const slot = advance();
      if (sum(retries) >= minPerWindow + ratio * sum(requests)) return false;
      retries[slot] += 1;
      return true;
    },
  };
}
