import { getJson, sleep } from '../core/http';
import { isProbe, type ExerciseDefinition, type FixCheck, type ProbeContext } from './api';
import type { CheckSettings } from './settings';
import type { Attempt } from '../core/exercise-state';
import { matches } from './hashes';
import { TRACE_ID, type TraceLookup } from './traces';

/**
 * Grades one start in up to three layers, each item with a message a learner can act on:
 * diagnosis (answers against the salted hashes of this start), evidence (a trace looked up in
 * the logs or Jaeger) and fix (PromQL on the live Prometheus, always with traffic flowing).
 */
export interface CheckItem {
  name: string; // diagnosis/instance, evidence/trace, fix/traffic, fix/<name>
  passed: boolean;
  message: string;
}

/** Traffic flowed at more than 1 request/s at every point of the window: stopping it never passes a fix. */
export const TRAFFIC_FLOWING = 'min_over_time(sum(rate(lab_traffic_requests_total[15s]))[$window:5s]) > 1';

export const normalised = (definition: ExerciseDefinition, key: string, value: string) =>
  definition.answers[key].normalise?.(value) ?? value.trim().toLowerCase();

export function gradeDiagnosis(definition: ExerciseDefinition, attempt: Attempt, answers: Record<string, string>) {
  return Object.entries(definition.answers)
    .filter(([key]) => attempt.truth[key])
    .map(([key, spec]): CheckItem => {
      const name = `diagnosis/${key}`;
      const given = answers[key];
      if (given === undefined)
        return { name, passed: false, message: `no answer yet: lab answer ${definition.id} ${key}=<${spec.prompt}>` };
      const right = matches(attempt.salt, key, normalised(definition, key, given), attempt.truth[key]);
      return { name, passed: right, message: right ? `${key}: right` : `${key}=${given} is not right for this start` };
    });
}

export async function gradeEvidence(
  definition: ExerciseDefinition,
  attempt: Attempt,
  answers: Record<string, string>,
  lookup: TraceLookup,
): Promise<CheckItem[]> {
  const items: CheckItem[] = [];
  for (const evidence of definition.evidence ?? []) {
    const name = `evidence/${evidence.answer}`;
    const traceId = answers[evidence.answer] && normalised(definition, evidence.answer, answers[evidence.answer]);
    if (!traceId) {
      items.push({ name, passed: false, message: `no ${evidence.answer} yet: ${evidence.description}` });
      continue;
    }
    if (!TRACE_ID.test(traceId)) {
      items.push({ name, passed: false, message: `${traceId} is not a trace id (32 hexadecimal digits)` });
      continue;
    }
    const trace = await lookup.find(traceId);
    const problem = trace
      ? evidence.verify(trace, attempt.facts)
      : `trace ${traceId} is not in ${lookup.where} (yet: traces of the last seconds may still be on their way)`;
    items.push({
      name,
      passed: !problem,
      message: problem ?? `trace ${traceId} shows it (${trace?.services.join(', ')})`,
    });
  }
  return items;
}

type Vector = { data: { result: unknown[] } };

async function holds(prometheusUrl: string, query: string): Promise<boolean> {
  const url = `${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`;
  return (await getJson<Vector>(url, 10_000)).data.result.length > 0;
}

/**
 * Polls until every condition holds together with traffic flowing, or the timeout passes. Probes
 * act (a checkout) and wait for their own answer: each runs once, before the polling.
 */
export async function gradeFix(
  conditions: FixCheck[],
  prometheusUrl: string,
  settings: CheckSettings,
  probing?: ProbeContext,
): Promise<CheckItem[]> {
  if (!conditions.length) return [];
  const withWindow = (query: string) => query.replaceAll('$window', settings.window);
  const traffic = withWindow(TRAFFIC_FLOWING);
  const problems = new Map<string, string | undefined>();
  for (const c of conditions.filter(isProbe))
    problems.set(c.name, probing ? await c.probe(probing) : 'this check cannot run a probe');
  // A probe that failed cannot pass by waiting: no need to poll until the deadline.
  const probesFailed = [...problems.values()].some((p) => p !== undefined);
  const deadline = Date.now() + settings.timeoutMs;
  for (;;) {
    const flowing = await holds(prometheusUrl, traffic);
    const results = await Promise.all(
      conditions.map(async (c) => ({
        c,
        problem: isProbe(c) ? problems.get(c.name) : undefined,
        ok:
          flowing &&
          (isProbe(c)
            ? problems.get(c.name) === undefined
            : await holds(prometheusUrl, `(${withWindow(c.query)}) and on() (${traffic})`)),
      })),
    );
    const done = results.every((r) => r.ok);
    if (done || probesFailed || Date.now() + settings.pollMs > deadline)
      return [
        {
          name: 'fix/traffic',
          passed: flowing,
          message: flowing
            ? `traffic flowed all through the last ${settings.window}`
            : `traffic did not flow all through the last ${settings.window} (over 1 request/s): \`lab traffic start\`, wait, check again`,
        },
        ...results.map(({ c, ok, problem }) => ({
          name: `fix/${c.name}`,
          passed: ok,
          message: isProbe(c)
            ? ok
              ? `${c.description}: yes`
              : `not yet: ${c.description}${problem ? ` (${problem})` : ', with traffic flowing'}`
            : ok
              ? `${c.description}: yes, over the last ${settings.window}`
              : `not yet: ${c.description} (measured over the last ${settings.window}, with traffic flowing)`,
        })),
      ];
    await sleep(settings.pollMs);
  }
}
