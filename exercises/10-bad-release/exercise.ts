/**
 * A bad canary: one catalog replica was deployed as release 2.0.0 (the lab's BAD_RELEASE_VERSION), and that release fails a share
 * of its requests. Both replicas look healthy and the gateway balances over both, so the errors
 * look random. The learner joins the error ratio by instance with shopnow_build_info to name the
 * replica and its version, and rolls it back (`lab rollback <instance>`): a restart would not do,
 * the instance comes back as the release it was deployed as.
 */
import { BAD_RELEASE_VERSION, defineExercise, instanceAnswer } from 'lab/exercise-api';

/** The share of its requests release 2.0.0 fails: ~15% of the catalog's, far over the 1% the fix asks. */
const ERROR_SHARE = 0.3;
const CATALOG = 'job="catalog"';

interface Target {
  instance: string;
  /** Its `instance` label: `127.0.0.1:8092` in lite mode. */
  labels: string[];
  version: string;
}

export default defineExercise<Target>({
  id: '10',
  slug: 'bad-release',
  title: 'The canary that bites',
  topics: ['deployments and rollbacks', 'load balancing over replicas', 'RED metrics'],
  signals: ['metrics', 'alerts'],
  // The lab redeploys an instance as another release through the lite-mode supervisor only.
  modes: ['lite'],

  async setup(ctx, rng) {
    const replicas = ctx.instances.filter((i) => i.service === 'catalog').map((i) => i.name);
    const instance = rng.pick(replicas);
    await ctx.faults.inject({ name: 'bad-release', instance, options: { errorShare: ERROR_SHARE } });
    ctx.progress('the canary of the new release is deployed'); // not where: that is the first answer
    return { instance, labels: ctx.instanceLabels(instance), version: BAD_RELEASE_VERSION };
  },

  answers: {
    instance: instanceAnswer(
      'the catalog instance that fails: its name (catalog-2) or its instance label (127.0.0.1:8092)',
      'catalog-1',
      (target) => [target.instance, ...target.labels],
    ),
    version: {
      prompt: 'the release version it runs (the version label of shopnow_build_info)',
      example: '1.4.2',
      normalise: (value) => value.trim().toLowerCase().replace(/^v/, ''),
      pattern: /^\d+\.\d+\.\d+/,
      expected: (target) => target.version,
    },
  },

  fix: [
    {
      name: 'catalog-errors',
      description: 'under 1% of the requests the catalog replicas handle are answered 5xx',
      query: `(sum(rate(http_server_request_duration_seconds_count{${CATALOG},status_class="5xx"}[$window])) or vector(0))
        / sum(rate(http_server_request_duration_seconds_count{${CATALOG}}[$window])) < 0.01`,
    },
  ],

  async solve(ctx, target) {
    await ctx.answer({ instance: target.instance, version: target.version });
    await ctx.rollback(target.instance);
  },
});
