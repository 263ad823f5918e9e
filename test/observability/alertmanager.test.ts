import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import { ALERTMANAGER_CONFIG, freePort, run, startDaemon, type Daemon } from './tools';
import { eventually } from '../support/eventually';

interface Config {
  receivers: Array<{ name: string; webhook_configs: Array<{ url: string; send_resolved: boolean }> }>;
}

const original = readFileSync(ALERTMANAGER_CONFIG, 'utf8');
// What lite mode runs: the same file with the webhook's host name replaced, nothing else.
const lite = original.replaceAll('lab-webhook', '127.0.0.1');
const WEBHOOK = 'http://lab-webhook:9099/alerts';

let dir: string;
let liteConfig: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'lab-alertmanager-'));
  liteConfig = path.join(dir, 'alertmanager.yml');
  writeFileSync(liteConfig, lite);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('alertmanager.yml', () => {
  test('amtool check-config accepts the file and its lite-mode rendering', () => {
    for (const file of [ALERTMANAGER_CONFIG, liteConfig]) {
      const result = run('amtool', ['check-config', file]);
      expect([file, result.code]).toEqual([file, 0]);
      expect(result.stdout).toContain('SUCCESS');
    }
  });

  test('every receiver posts to the lab webhook and reports resolution too', () => {
    const { receivers } = parse(original) as Config;
    expect(receivers.map((r) => r.name).sort()).toEqual(['default', 'page', 'ticket']);
    for (const receiver of receivers) {
      expect(receiver.webhook_configs).toEqual([{ url: WEBHOOK, send_resolved: true }]);
    }
  });

  test('the lite rendering changes only the webhook host', () => {
    expect(JSON.stringify(parse(lite))).toBe(
      JSON.stringify(parse(original)).replaceAll(WEBHOOK, 'http://127.0.0.1:9099/alerts'),
    );
  });
});

describe('routing (amtool config routes test)', () => {
  const route = (receiver: string, labels: string[]) =>
    run('amtool', [
      'config',
      'routes',
      'test',
      `--config.file=${ALERTMANAGER_CONFIG}`,
      `--verify.receivers=${receiver}`,
      ...labels,
    ]);

  test.each([
    ['page', ['alertname=ServiceDown', 'service=orders', 'severity=page']],
    ['ticket', ['alertname=MemoryGrowth', 'service=catalog', 'severity=ticket']],
    ['default', ['alertname=Mystery', 'service=orders', 'severity=critical']],
    ['default', ['alertname=Mystery']],
  ])('routes to %s: %j', (receiver, labels) => {
    const result = route(receiver, labels);
    expect(result.stdout.trim()).toBe(receiver);
    expect(result.code).toBe(0);
  });

  test('a ticket verified against the page receiver fails', () => {
    const result = route('page', ['alertname=MemoryGrowth', 'service=catalog', 'severity=ticket']);
    expect(result.stdout).toContain('WARNING: Expected receivers did not match resolved receivers.');
    expect(result.code).toBe(1);
  });
});

// amtool cannot evaluate inhibition offline: run the real Alertmanager on the lite rendering,
// post alerts to it and read which ones it suppresses.
describe('inhibition, on a running Alertmanager', () => {
  let alertmanager: Daemon;
  let api: string;

  beforeAll(async () => {
    const port = await freePort();
    api = `http://127.0.0.1:${port}/api/v2`;
    alertmanager = startDaemon(
      'prometheus-alertmanager',
      [
        `--config.file=${liteConfig}`,
        `--storage.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
      ],
      dir,
    );
    await eventually('Alertmanager to answer', 20_000, async () =>
      (await fetch(`${api}/status`)).ok ? true : undefined,
    );
  });
  afterAll(async () => alertmanager?.stop());

  test('ServiceDown silences its own service, and a page the ticket of the same alert', async () => {
    const alerts = [
      { alertname: 'ServiceDown', service: 'orders', severity: 'page' },
      { alertname: 'HighErrorRate', service: 'orders', severity: 'page' },
      { alertname: 'HighLatencyP95', service: 'orders', severity: 'ticket' },
      { alertname: 'HighErrorRate', service: 'auth', severity: 'page' },
      { alertname: 'CheckoutErrorBudgetBurn', service: 'gateway', severity: 'page' },
      { alertname: 'CheckoutErrorBudgetBurn', service: 'gateway', severity: 'ticket' },
      { alertname: 'MemoryGrowth', service: 'gateway', severity: 'ticket' },
    ];
    const posted = await fetch(`${api}/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts.map((labels) => ({ labels }))),
    });
    expect(posted.status).toBe(200);
    type Alert = { labels: Record<string, string>; status: { state: string } };
    const expected = {
      'ServiceDown/orders/page': 'active',
      'HighErrorRate/orders/page': 'suppressed',
      'HighLatencyP95/orders/ticket': 'suppressed',
      'HighErrorRate/auth/page': 'active',
      'CheckoutErrorBudgetBurn/gateway/page': 'active',
      'CheckoutErrorBudgetBurn/gateway/ticket': 'suppressed',
      'MemoryGrowth/gateway/ticket': 'active',
    };
    // The inhibitor marks alerts as it receives them, a moment after the API has them: poll until
    // the states settle on the expected ones, and show the last ones read if they never do.
    let states: Record<string, string> = {};
    await eventually('the inhibitions', 20_000, async () => {
      const got = (await (await fetch(`${api}/alerts`)).json()) as Alert[];
      states = Object.fromEntries(
        got.map((a) => [`${a.labels.alertname}/${a.labels.service}/${a.labels.severity}`, a.status.state]),
      );
      return isDeepStrictEqual(states, expected) ? true : undefined;
    }).catch(() => undefined);
    expect(states).toEqual(expected);
  });
});
