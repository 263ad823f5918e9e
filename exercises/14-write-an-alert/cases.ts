/**
 * The hidden `promtool test rules` cases of exercise 14, made for one start: the gateway's
 * request-duration histograms as the lab scrapes them (every 5 s, the lab's buckets), and what
 * the learner's alert must or must not do with them. Each case runs alone, so a failure names it.
 * Any rate window up to 5 minutes, histogram_quantile or the share of requests over the
 * threshold's bucket, and the lab's recording rules all pass: the cases test what the alert
 * means (the route, the p95, the threshold, the `for:`), not how it is written.
 */
export interface AlertSpec {
  alert: string;
  route: string; // at the gateway
  service: string; // the service behind it
  serviceRoute: string; // the same requests in that service's own metrics
  thresholdMs: number; // a bucket boundary of the lab's histograms
  forMinutes: number;
}

export interface HiddenCase {
  description: string;
  test: object; // one test group of a promtool unit test file
}

const STEP_S = 5; // the lab's scrape and evaluation interval
const PER_STEP = 25; // 5 requests/s on each route
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, 10]; // services/kit LATENCY_BUCKETS
const FAST = 0.04;
const CRAWL = 0.9;
const ONSET_S = 120; // when the route turns slow in the cases that must fire
const GATEWAY_ROUTES: Array<[string, string]> = [
  ['GET', '/api/products'],
  ['GET', '/api/products/search'],
  ['GET', '/api/products/:id'],
  ['POST', '/api/auth/login'],
  ['GET', '/api/auth/me'],
  ['POST', '/api/orders'],
];

/** Requests per 5 s at each latency (seconds). */
type Mix = Array<[number, number]>;
/** From `from` seconds on, this mix (the first phase starts at 0). */
type Phase = [from: number, mix: Mix];

const all = (seconds: number): Mix => [[seconds, PER_STEP]];

/** A histogram's cumulative _bucket, _count and _sum series, one value per 5 s from 0 to `endS`. */
function histogram(labels: string, phases: Phase[], endS: number) {
  const name = 'http_server_request_duration_seconds';
  const mixAt = (t: number) => phases.filter(([from]) => from <= t - STEP_S).at(-1)?.[1] ?? [];
  const steps = Array.from({ length: endS / STEP_S }, (_, i) => mixAt((i + 1) * STEP_S));
  /** The counter's values: 0, then what each step adds to it. */
  const counter = (added: (mix: Mix) => number) => {
    let total = 0;
    return [0, ...steps.map((mix) => (total += added(mix)))].map((v) => Number(v.toFixed(3))).join(' ');
  };
  const requests = (mix: Mix, le = Infinity) => mix.filter(([s]) => s <= le).reduce((n, [, count]) => n + count, 0);
  return [
    ...[...BUCKETS, Infinity].map((le) => ({
      series: `${name}_bucket{${labels},le="${le === Infinity ? '+Inf' : le}"}`,
      values: counter((mix) => requests(mix, le)),
    })),
    { series: `${name}_count{${labels}}`, values: counter((mix) => requests(mix)) },
    { series: `${name}_sum{${labels}}`, values: counter((mix) => mix.reduce((n, [s, count]) => n + s * count, 0)) },
  ];
}

/** What histogram_quantile(0.95, ...) makes of a mix: linear within the bucket, in ms. */
export function p95Ms(mix: Mix): number {
  const total = mix.reduce((n, [, count]) => n + count, 0);
  const rank = 0.95 * total;
  let below = 0;
  let lower = 0;
  for (const le of BUCKETS) {
    const inside = mix.filter(([s]) => s > lower && s <= le).reduce((n, [, count]) => n + count, 0);
    if (inside && below + inside >= rank) return Math.round(1000 * (lower + ((le - lower) * (rank - below)) / inside));
    below += inside;
    lower = le;
  }
  return Infinity;
}

const minutes = (seconds: number) =>
  seconds % 60 ? `${Math.floor(seconds / 60)}m${seconds % 60}s` : `${seconds / 60}m`;

export function hiddenCases(spec: AlertSpec): HiddenCase[] {
  const threshold = spec.thresholdMs / 1000;
  const hold = spec.forMinutes * 60;
  const under = all(threshold - 0.01);
  const over = all(threshold + 0.01);
  const tail: Mix = [
    [FAST, PER_STEP - 1],
    [CRAWL, 1],
  ];
  const instance = `${spec.service}:80${spec.service === 'auth' ? 81 : 82}`;

  /** The gateway (the target route with `target`, every other route with `others`) and the service behind. */
  const world = (target: Phase[], others: Mix, service: Phase[], endS: number) => [
    ...GATEWAY_ROUTES.flatMap(([method, route]) =>
      histogram(
        `job="gateway",instance="gateway:8080",method="${method}",route="${route}",status_class="2xx"`,
        route === spec.route ? target : [[0, others]],
        endS,
      ),
    ),
    ...histogram(
      `job="${spec.service}",instance="${instance}",method="GET",route="${spec.serviceRoute}",status_class="2xx"`,
      service,
      endS,
    ),
  ];
  const quiet = (input_series: object[], times: number[]) => ({
    interval: `${STEP_S}s`,
    input_series,
    alert_rule_test: times.map((t) => ({ eval_time: `${t}s`, alertname: spec.alert, exp_alerts: [] })),
  });
  const firing = (input_series: object[], at: number, labels = '') => ({
    interval: `${STEP_S}s`,
    input_series,
    promql_expr_test: [
      {
        expr: `max(ALERTS{alertname="${spec.alert}",alertstate="firing"${labels}})`,
        eval_time: `${at}s`,
        exp_samples: [{ labels: '{}', value: 1 }],
      },
    ],
  });

  const turnsSlow: Phase[] = [
    [0, all(FAST)],
    [ONSET_S, over],
  ];
  const slowEnd = ONSET_S + hold + 60;
  const slowWorld = world(turnsSlow, all(FAST), turnsSlow, slowEnd);
  const firesBy = ONSET_S + hold + 30;
  const slowP95 = p95Ms(over);
  return [
    {
      description: `${spec.route} answers in 40 ms while the gateway's other routes and ${spec.service}'s own ${spec.serviceRoute} take 900 ms: must not fire (watch ${spec.route} at the gateway)`,
      test: quiet(world([[0, all(FAST)]], all(CRAWL), [[0, all(CRAWL)]], 600), [300, 600]),
    },
    {
      description: `the p95 of ${spec.route} at ${p95Ms(under)} ms, just under ${spec.thresholdMs} ms, for 10 minutes: must not fire`,
      test: quiet(world([[0, under]], all(FAST), [[0, under]], 600), [300, 600]),
    },
    {
      description: `4% of ${spec.route}'s requests take 900 ms and the rest 40 ms (p95 ${p95Ms(tail)} ms, p99 900 ms), for 10 minutes: must not fire (a p95 alert, not p99 or max)`,
      test: quiet(world([[0, tail]], all(FAST), [[0, tail]], 600), [300, 600]),
    },
    {
      description: `the p95 of ${spec.route} at ${slowP95} ms from minute 2 on: must not fire before it has held for ${spec.forMinutes}m (checked at ${minutes(ONSET_S + hold / 2)} and ${minutes(ONSET_S + hold - 5)})`,
      test: quiet(slowWorld, [ONSET_S + hold / 2, ONSET_S + hold - 5]),
    },
    {
      description: `the p95 of ${spec.route} at ${slowP95} ms, just over ${spec.thresholdMs} ms, from minute 2 on: must be firing at ${minutes(firesBy)} (2m + for: ${spec.forMinutes}m + 30s)`,
      test: firing(slowWorld, firesBy),
    },
    {
      description: `when it fires, it carries the label severity="page" (Alertmanager routes pages by it)`,
      test: firing(slowWorld, firesBy, ',severity="page"'),
    },
  ];
}
