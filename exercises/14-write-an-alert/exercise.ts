/**
 * Writing an alert rule: one gateway route is slow (a latency fault in the service behind it) and
 * nothing pages, since the lab's HighLatencyP95 watches whole services over 5 minutes at 500 ms.
 * The learner writes the alert the post-mortem asks for (its name, route, threshold and `for:`
 * drawn per start). Graded by hidden `promtool test rules` cases made for this start, and by the
 * alert firing on the lab's own Prometheus while the route is slow.
 */
import fs from 'node:fs';
import { defineExercise, TRAFFIC_FLOWING, type ExerciseContext, type ProbeContext } from 'lab/exercise-api';
import { hiddenCases, type AlertSpec } from './cases';

/** The routes that can be slowed alone: the fault's pathPrefix is the service's own route. */
const ROUTES: Record<string, { service: string; serviceRoute: string; alerts: string[] }> = {
  '/api/products/search': {
    service: 'catalog',
    serviceRoute: '/products/search',
    alerts: ['ProductSearchSlow', 'SearchLatencyHigh'],
  },
  '/api/auth/me': { service: 'auth', serviceRoute: '/auth/me', alerts: ['AccountPageSlow', 'AuthMeLatencyHigh'] },
};
/** Over both thresholds, under the 500 ms of HighLatencyP95: the lab's own alerts stay quiet. */
const SLOW_MS = 350;

interface Target {
  alert: string;
  route: string;
  thresholdMs: number;
  forMinutes: number;
  file: string;
}

const SKELETON = `# Exercise 14: your alerting rule. \`lab start 14\` said its name, route, threshold and for:.
# Check it: promtool check rules <this file>. Load it: lab rules load. Grade it: lab check 14.
groups:
  - name: learner
    rules:
      # - alert: <name>
      #   expr: <PromQL that holds while the route's p95 latency at the gateway is over the threshold>
      #   for: <how long it must hold before it pages>
      #   labels:
      #     severity: page
      #   annotations:
      #     summary: <what a person paged at 3 a.m. reads first>
`;

const specOf = (facts: Record<string, string>): AlertSpec => ({
  alert: facts.alert,
  route: facts.route,
  ...ROUTES[facts.route],
  thresholdMs: parseInt(facts.threshold, 10),
  forMinutes: parseInt(facts.for, 10),
});

const symptom = (spec: AlertSpec) => ({
  name: 'latency',
  service: spec.service,
  options: { ms: SLOW_MS, pathPrefix: spec.serviceRoute },
});

/** The alert names a rule file defines (its `alert:` keys), read from the text as written. */
const alertNames = (text: string) => [...text.matchAll(/^\s*-?\s*alert:\s*["']?([A-Za-z_:][\w:]*)/gm)].map((m) => m[1]);

async function ruleProblem(lab: ExerciseContext, spec: AlertSpec): Promise<string | undefined> {
  const file = lab.rules.file;
  if (!fs.existsSync(file)) return `${file} does not exist: write your rule there (lab start 14 writes a skeleton)`;
  const refused = await lab.rules.check(file);
  if (refused) return `promtool check rules refuses ${file}: ${refused}`;
  const text = fs.readFileSync(file, 'utf8');
  const names = alertNames(text);
  if (!names.includes(spec.alert))
    return `${file} defines no alert named ${spec.alert}${names.length ? ` (it defines ${names.join(', ')})` : ''}`;
  // The lab's RED recording rules (job_route:...:p95_1m) may be used; they are evaluated only then (they cost).
  const red = `${lab.rules.labDir}/red.rules.yml`;
  const recorded = [...fs.readFileSync(red, 'utf8').matchAll(/record:\s*(\S+)/g)].map((m) => m[1]);
  const ruleFiles = recorded.some((name) => text.includes(name)) ? [file, red] : [file];
  const cases = hiddenCases(spec);
  const failed: string[] = [];
  for (const c of cases) {
    const result = await lab.rules.test({ ruleFiles, evaluationInterval: '5s', tests: [c.test] });
    if (!result.passed) failed.push(`${c.description} [promtool: ${result.output.slice(0, 400)}]`);
  }
  return failed.length ? `${failed.length} of ${cases.length} hidden cases failed: ${failed.join('; ')}` : undefined;
}

// Both probes of one `lab check` need the verdict on the same file: promtool runs once.
const verdicts = new Map<string, Promise<string | undefined>>();
function verdict(lab: ExerciseContext, spec: AlertSpec) {
  const text = fs.existsSync(lab.rules.file) ? fs.readFileSync(lab.rules.file, 'utf8') : '';
  const key = JSON.stringify([spec, lab.rules.file, text]);
  if (!verdicts.has(key)) verdicts.set(key, ruleProblem(lab, spec));
  return verdicts.get(key) as Promise<string | undefined>;
}

async function holds(prometheusUrl: string, query: string): Promise<boolean> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`, {
    signal: AbortSignal.timeout(10_000),
  });
  return ((await res.json()) as { data: { result: unknown[] } }).data.result.length > 0;
}

/** Loads the learner's rules into the lab's Prometheus, makes the route slow, waits for the page. */
async function firesLive({ lab, facts, prometheusUrl, settings }: ProbeContext): Promise<string | undefined> {
  const spec = specOf(facts);
  if (await verdict(lab, spec)) return 'not tried on the live Prometheus before the rule passes its hidden cases';
  if (!(await holds(prometheusUrl, TRAFFIC_FLOWING.replaceAll('$window', settings.window))))
    return 'not tried: no traffic flows, so the route has no latency to alert on (lab traffic start)';
  let alerts;
  try {
    alerts = (await lab.rules.load()).alerts;
  } catch (err) {
    return (err as Error).message;
  }
  if (!alerts.some((a) => a.name === spec.alert)) return `Prometheus did not load ${spec.alert} from ${lab.rules.file}`;
  // The slow route as lab start left it (again, had it been cleared meanwhile).
  await lab.faults.inject(symptom(spec));
  const waitMs = spec.forMinutes * 60_000 + settings.timeoutMs;
  lab.progress(`waiting up to ${waitMs / 1000} s for ${spec.alert} to fire on Prometheus (for: ${spec.forMinutes}m)`);
  const deadline = Date.now() + waitMs;
  const state = (s: string) => holds(prometheusUrl, `ALERTS{alertname="${spec.alert}",alertstate="${s}"}`);
  for (;;) {
    if (await state('firing')) return undefined;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
  return (await state('pending'))
    ? `${spec.alert} is still pending after ${waitMs / 1000} s of ${spec.route} being slow`
    : `${spec.alert} did not fire, nor go pending, in ${waitMs / 1000} s of ${spec.route} being slow: does its expression select the live series (Prometheus UI, Graph)?`;
}

export default defineExercise<Target>({
  id: '14',
  slug: 'write-an-alert',
  title: 'The page that never came',
  topics: ['monitoring and alerting', 'latency percentiles', 'the API gateway'],
  signals: ['alerts', 'metrics'],
  modes: ['full', 'lite'],

  async setup(ctx, rng) {
    const route = rng.pick(Object.keys(ROUTES));
    const target = {
      alert: rng.pick(ROUTES[route].alerts),
      route,
      thresholdMs: rng.pick([200, 300]),
      forMinutes: rng.pick([1, 2]),
      file: ctx.rules.file,
    };
    await ctx.faults.inject(symptom(specOf(factsOf(target))));
    ctx.rules.write(SKELETON, { keep: true }); // a rule written at an earlier start stays
    return target;
  },

  facts: (target) => factsOf(target),

  answers: {
    missed: {
      prompt: 'the lab alert that watches service latency, yet stayed quiet',
      example: 'HighErrorRate',
      pattern: /^[a-z][a-z0-9_]*$/,
      expected: () => 'HighLatencyP95',
    },
  },

  fix: [
    {
      name: 'rule-tests',
      description: "your rule passes this start's hidden promtool test cases",
      probe: ({ lab, facts }) => verdict(lab, specOf(facts)),
    },
    {
      name: 'fires-live',
      description: "your alert fires on the lab's Prometheus while the route is slow",
      probe: firesLive,
    },
  ],

  async solve(ctx, target) {
    await ctx.answer({ missed: 'HighLatencyP95' });
    ctx.rules.write(referenceRule(target));
    await ctx.rules.load();
  },
});

function factsOf(target: Target): Record<string, string> {
  return {
    alert: target.alert,
    route: target.route,
    threshold: `${target.thresholdMs}ms`,
    for: `${target.forMinutes}m`,
    file: target.file,
  };
}

/** The reference answer: the route's p95 at the gateway over 1 minute, above the threshold for `for:`. */
export function referenceRule(target: Omit<Target, 'file'>): string {
  return `groups:
  - name: learner
    rules:
      - alert: ${target.alert}
        expr: |
          histogram_quantile(0.95,
            sum by (le) (rate(http_server_request_duration_seconds_bucket{job="gateway",route="${target.route}"}[1m]))
          ) > ${target.thresholdMs / 1000}
        for: ${target.forMinutes}m
        labels:
          severity: page
          service: gateway
        annotations:
          summary: ${target.route} is slow at the gateway (p95 {{ $value | humanizeDuration }})
          description: >-
            The p95 latency of ${target.route} at the gateway has been over ${target.thresholdMs}ms for
            ${target.forMinutes}m (now {{ $value | humanizeDuration }}).
`;
}
