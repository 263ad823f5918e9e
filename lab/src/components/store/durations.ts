/** Duration strings as Go's time.ParseDuration reads them ("200ms", "1.5s", "1h30m"), in microseconds. */
const UNIT_US: Record<string, number> = {
  ns: 0.001,
  us: 1,
  µs: 1,
  μs: 1,
  ms: 1_000,
  s: 1_000_000,
  m: 60_000_000,
  h: 3_600_000_000,
};

export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const parts = /^((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.test(text)
    ? text.match(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)
    : null;
  if (!parts) return undefined;
  return Math.round(
    parts.reduce((total, part) => {
      const [, value, unit] = /^([\d.]+)(.+)$/.exec(part) as RegExpExecArray;
      return total + Number(value) * UNIT_US[unit];
    }, 0),
  );
}

/** Loki/Prometheus range durations ("5m", "1h", "30s", "1d"), in microseconds. */
export function parsePromDuration(text: string): number | undefined {
  const units: Record<string, number> = { ...UNIT_US, d: 86_400_000_000, w: 604_800_000_000, y: 31_536_000_000_000 };
  const parts = /^(\d+(?:ms|s|m|h|d|w|y))+$/.test(text) ? text.match(/\d+(ms|s|m|h|d|w|y)/g) : null;
  if (!parts) return undefined;
  return parts.reduce((total, part) => {
    const [, value, unit] = /^(\d+)(.+)$/.exec(part) as RegExpExecArray;
    return total + Number(value) * units[unit];
  }, 0);
}
