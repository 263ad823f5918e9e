/**
 * The one polling helper of the tests: calls `probe` until it answers a value (undefined and false
 * mean "not yet"), and fails at the deadline naming what it waited for and the probe's last error.
 * It polls about a hundred times over the deadline, between every 20 ms and every second: a
 * gateway's health check flips in milliseconds, a Prometheus window in tens of seconds.
 */
export async function eventually<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const pause = Math.min(1_000, Math.max(20, timeoutMs / 100));
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err; // a backend still starting refuses: that is "not yet" too
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`,
      );
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
