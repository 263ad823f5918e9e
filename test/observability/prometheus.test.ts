import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  mkdirSync,
  writeFileSync,
  copyFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promqlErrors } from './promql';
import {
  PROMETHEUS_DIR,
  RULES_DIR,
  freePort,
  readYaml,
  ruleFiles,
  ruleTestFiles,
  run,
  startDaemon,
  type Daemon,
} from './tools';
import { eventually } from '../support/eventually';

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: Array<{ name: string; rules: Rule[] }>;
}
interface RuleTestFile {
  rule_files: string[];
  tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] | null }> }>;
}
interface Relabel {
  source_labels: string[];
  regex: string;
  action: string;
}
interface Config {
  rule_files: string[];
  alerting: { alertmanagers: Array<{ file_sd_configs: Array<{ files: string[] }>; relabel_configs: Relabel[] }> };
  scrape_configs: Array<{ job_name: string; file_sd_configs: Array<{ files: string[] }>; relabel_configs: Relabel[] }>;
}
type TargetGroup = { labels: { job: string }; targets: string[] };

const rulesOf = (file: string) => readYaml<RuleFile>(path.join(RULES_DIR, file)).groups.flatMap((g) => g.rules);
const alertRules = () =>
  ruleFiles()
    .flatMap(rulesOf)
    .filter((rule) => rule.alert !== undefined);
const config = () => readYaml<Config>(path.join(PROMETHEUS_DIR, 'prometheus.yml'));
const composeTargets = () =>
  JSON.parse(readFileSync(path.join(PROMETHEUS_DIR, 'targets/compose.json'), 'utf8')) as TargetGroup[];

/** Does a `keep` relabelling on the job label let this job through? (Prometheus anchors the regex.) */
const keeps = (relabels: Relabel[], job: string) =>
  relabels.every(
    (r) => r.action !== 'keep' || r.source_labels.join() !== 'job' || new RegExp(`^(?:${r.regex})$`).test(job),
  );

describe('prometheus.yml', () => {
  test('promtool check config accepts it and loads every rule file', () => {
    const result = run('promtool', ['check', 'config', 'prometheus.yml'], PROMETHEUS_DIR);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(ruleFiles().length).toBeGreaterThan(0);
    expect(result.stdout).toContain(`SUCCESS: ${ruleFiles().length} rule files found`);
  });

  test('compose.json names every service and lab component on its contract address', () => {
    const byJob = Object.fromEntries(composeTargets().map((group) => [group.labels.job, group.targets]));
    expect(byJob).toEqual({
      gateway: ['gateway:8080'],
      auth: ['auth:8081'],
      catalog: ['catalog-1:8082', 'catalog-2:8092'],
      orders: ['orders:8083'],
      payments: ['payments:8084'],
      inventory: ['inventory:8085'],
      notifications: ['notifications:8086'],
      // the generator shares the gateway's network namespace (see docker-compose.yml)
      traffic: ['gateway:9464'],
      alertmanager: ['alertmanager:9093'],
      // the lab webhook exports the exercises' times (lab_exercise_*) beside the pages it received
      'lab-webhook': ['lab-webhook:9099'],
      prometheus: ['prometheus:9090'],
      'otel-collector': ['otel-collector:8888', 'otel-collector:8889'],
    });
  });

  test('every job in the target files is scraped by exactly one scrape config; only alertmanager receives alerts', () => {
    const { scrape_configs: scrapes, alerting, rule_files: rules } = config();
    expect(rules).toEqual(['rules/*.rules.yml', 'learner/*.rules.yml']);
    const sources = [...scrapes, ...alerting.alertmanagers].map((c) => c.file_sd_configs.flatMap((sd) => sd.files));
    expect(sources.every((files) => files.join() === 'targets/*.json')).toBe(true);
    for (const { labels } of composeTargets()) {
      expect([labels.job, scrapes.filter((s) => keeps(s.relabel_configs, labels.job)).length]).toEqual([labels.job, 1]);
    }
    expect(keeps(alerting.alertmanagers[0].relabel_configs, 'alertmanager')).toBe(true);
    expect(keeps(alerting.alertmanagers[0].relabel_configs, 'gateway')).toBe(false);
  });
});

describe.each(ruleFiles())('rule file %s', (file) => {
  test('promtool check rules accepts it', () => {
    const result = run('promtool', ['check', 'rules', file], RULES_DIR);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('SUCCESS');
  });

  test('has a promtool test beside it that loads it', () => {
    const testFile = path.join(RULES_DIR, file.replace(/\.rules\.yml$/, '.test.yml'));
    expect(existsSync(testFile)).toBe(true);
    expect(readYaml<RuleTestFile>(testFile).rule_files).toContain(file);
  });

  test('every expression parses with the PromQL grammar of the Prometheus UI', () => {
    const errors = rulesOf(file).flatMap((rule) =>
      promqlErrors(rule.expr).map((e) => `${rule.record ?? rule.alert}: ${e}`),
    );
    expect(errors).toEqual([]);
  });

  test('every alert has a severity, a service, and a summary, description and runbook', () => {
    for (const rule of rulesOf(file).filter((r) => r.alert !== undefined)) {
      expect([rule.alert, rule.labels?.severity]).toEqual([rule.alert, expect.stringMatching(/^(page|ticket)$/)]);
      expect([rule.alert, rule.labels?.service]).toEqual([rule.alert, expect.any(String)]);
      const { summary, description, runbook } = rule.annotations ?? {};
      expect([rule.alert, summary, runbook]).toEqual([rule.alert, expect.any(String), expect.any(String)]);
      expect([rule.alert, description]).toEqual([rule.alert, expect.stringMatching(/\$labels|\$value/)]);
    }
  });
});

describe('promtool rule tests', () => {
  test.each(ruleTestFiles())(
    '%s passes',
    (file) => {
      const result = run('promtool', ['test', 'rules', file], RULES_DIR);
      expect(result.stdout + result.stderr).toContain('SUCCESS');
      expect(result.code).toBe(0);
    },
    180_000,
  );

  test('every alert has a case where it fires and a case where it must not', () => {
    const fires = new Set<string>();
    const quiet = new Set<string>();
    for (const file of ruleTestFiles()) {
      for (const { alert_rule_test: cases = [] } of readYaml<RuleTestFile>(path.join(RULES_DIR, file)).tests) {
        for (const c of cases) (c.exp_alerts?.length ? fires : quiet).add(c.alertname);
      }
    }
    const names = [...new Set(alertRules().map((rule) => rule.alert as string))];
    expect(names.length).toBeGreaterThan(0);
    expect({
      withoutFiring: names.filter((n) => !fires.has(n)),
      withoutQuiet: names.filter((n) => !quiet.has(n)),
    }).toEqual({
      withoutFiring: [],
      withoutQuiet: [],
    });
  });

  test('promtool test rules fails when an alert fires that a case says must not', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rule-test-'));
    try {
      writeFileSync(
        path.join(dir, 'down.test.yml'),
        JSON.stringify({
          rule_files: [path.join(RULES_DIR, 'red.rules.yml')],
          evaluation_interval: '15s',
          tests: [
            {
              interval: '15s',
              input_series: [{ series: 'up{job="payments",instance="payments:8084"}', values: '0x20' }],
              alert_rule_test: [{ eval_time: '2m', alertname: 'ServiceDown', exp_alerts: [] }],
            },
          ],
        }),
      );
      const result = run('promtool', ['test', 'rules', 'down.test.yml'], dir);
      expect(result.code).toBe(1);
      expect(result.stdout + result.stderr).toMatch(/FAILED[\s\S]*alertname: ServiceDown/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Lite mode copies prometheus.yml unchanged, links rules/ beside it and writes targets/lite.json.
// Doing exactly that and starting the real Prometheus proves it finds every target and its
// Alertmanager from the target file alone.
describe('lite mode: the same prometheus.yml with a lite target file', () => {
  const lite: TargetGroup[] = [
    { labels: { job: 'gateway' }, targets: ['127.0.0.1:8080'] },
    { labels: { job: 'auth' }, targets: ['127.0.0.1:8081'] },
    { labels: { job: 'catalog' }, targets: ['127.0.0.1:8082', '127.0.0.1:8092'] },
    { labels: { job: 'orders' }, targets: ['127.0.0.1:8083'] },
    { labels: { job: 'payments' }, targets: ['127.0.0.1:8084'] },
    { labels: { job: 'inventory' }, targets: ['127.0.0.1:8085'] },
    { labels: { job: 'notifications' }, targets: ['127.0.0.1:8086'] },
    { labels: { job: 'traffic' }, targets: ['127.0.0.1:9464'] },
    { labels: { job: 'alertmanager' }, targets: ['127.0.0.1:9093'] },
    { labels: { job: 'prometheus' }, targets: ['127.0.0.1:9090'] },
  ];
  let dir: string;
  let prometheus: Daemon;
  let api: string;
  const get = async <T>(endpoint: string): Promise<T> => {
    const response = await fetch(`${api}${endpoint}`);
    if (!response.ok) throw new Error(`${endpoint}: HTTP ${response.status}`);
    return ((await response.json()) as { data: T }).data;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lab-prometheus-'));
    copyFileSync(path.join(PROMETHEUS_DIR, 'prometheus.yml'), path.join(dir, 'prometheus.yml'));
    symlinkSync(RULES_DIR, path.join(dir, 'rules'));
    mkdirSync(path.join(dir, 'targets'));
    writeFileSync(path.join(dir, 'targets/lite.json'), JSON.stringify(lite));
    const port = await freePort();
    api = `http://127.0.0.1:${port}/api/v1`;
    prometheus = startDaemon(
      'prometheus',
      [
        '--config.file=prometheus.yml',
        '--storage.tsdb.path=data',
        `--web.listen-address=127.0.0.1:${port}`,
        '--enable-feature=exemplar-storage',
      ],
      dir,
    );
  });

  afterAll(async () => {
    await prometheus?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('scrapes every target of the file, with its job and host:port instance', async () => {
    type Target = { labels: { job: string; instance: string }; scrapePool: string };
    const targets = await eventually(
      `11 active targets (log: ${prometheus.output().slice(-500)})`,
      20_000,
      async () => {
        const { activeTargets } = await get<{ activeTargets: Target[] }>('/targets');
        return activeTargets.length === 11 ? activeTargets : undefined;
      },
    );
    const found = targets.map((t) => `${t.scrapePool} ${t.labels.job} ${t.labels.instance}`).sort();
    const lab = new Set(['traffic', 'alertmanager', 'prometheus']);
    const expected = lite.flatMap(({ labels: { job }, targets: addresses }) =>
      addresses.map((address) => `${lab.has(job) ? 'lab' : 'shopnow'} ${job} ${address}`),
    );
    expect(found).toEqual(expected.sort());
  });

  test('sends alerts to the Alertmanager named in the target file', async () => {
    const urls = await eventually('an active Alertmanager', 20_000, async () => {
      const { activeAlertmanagers } = await get<{ activeAlertmanagers: Array<{ url: string }> }>('/alertmanagers');
      return activeAlertmanagers.length ? activeAlertmanagers.map((a) => a.url) : undefined;
    });
    expect(urls).toEqual(['http://127.0.0.1:9093/api/v2/alerts']);
  });

  test('loads every alert of the linked rule files', async () => {
    type Groups = { groups: Array<{ rules: Array<{ name: string; type: string }> }> };
    const { groups } = await eventually('the rules API', 20_000, () => get<Groups>('/rules'));
    const loaded = groups.flatMap((g) => g.rules.filter((r) => r.type === 'alerting').map((r) => r.name));
    expect(loaded.sort()).toEqual(
      alertRules()
        .map((rule) => rule.alert)
        .sort(),
    );
  });
});
