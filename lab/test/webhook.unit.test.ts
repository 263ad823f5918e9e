import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import http, { type Server } from 'node:http';
import { createLogger } from '@shopnow/kit';
import { createWebhook } from '../src/components/webhook/webhook';

// What Alertmanager 0.25 posts (webhook payload version 4), trimmed to the fields that matter.
const payload = (status: string) => ({
  version: '4',
  groupKey: '{}:{alertname="ServiceDown"}',
  status,
  receiver: 'lab-webhook',
  groupLabels: { alertname: 'ServiceDown' },
  commonLabels: { alertname: 'ServiceDown', severity: 'page' },
  commonAnnotations: {},
  externalURL: 'http://127.0.0.1:9093',
  alerts: [
    {
      status,
      labels: { alertname: 'ServiceDown', severity: 'page', job: 'payments', instance: '127.0.0.1:8084' },
      annotations: { summary: '127.0.0.1:8084 (payments) does not answer scrapes' },
      startsAt: '2026-11-24T10:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://127.0.0.1:9090/graph',
      fingerprint: 'abc',
    },
  ],
});

describe('the lab webhook', () => {
  let server: Server;
  let base: string;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lab-webhook-')), 'pages.jsonl');
  beforeAll(async () => {
    const log = createLogger('lab-webhook-test');
    log.silent = true; // one access-log line per request would only bury the test's output
    server = http.createServer(createWebhook(file, { log }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const post = (body: unknown) =>
    fetch(`${base}/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('keeps every alert Alertmanager delivers, firing then resolved', async () => {
    expect((await post(payload('firing'))).status).toBe(200);
    expect((await post(payload('resolved'))).status).toBe(200);
    const pages = (await (await fetch(`${base}/pages`)).json()) as Array<Record<string, unknown>>;
    expect(pages.map((p) => [p.alertname, p.severity, p.status])).toEqual([
      ['ServiceDown', 'page', 'firing'],
      ['ServiceDown', 'page', 'resolved'],
    ]);
    expect(pages[0].labels).toMatchObject({ job: 'payments' });
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('counts them for Prometheus', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('lab_pages_received_total{alertname="ServiceDown",severity="page",status="firing"} 1');
    expect(text).toContain('lab_pages_received_total{alertname="ServiceDown",severity="page",status="resolved"} 1');
  });

  it('refuses what is not a webhook payload, naming what is wrong, and answers its health check', async () => {
    const refused = await post({ hello: 'world' });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { message: expect.stringContaining('body.alerts') } });
    const notJson = await fetch(`${base}/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    expect(notJson.status).toBe(400);
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
  });
});

describe('the lab webhook when it cannot write its pages file', () => {
  // The full stack's case: .lab/ in a bind mount the process may not write (EACCES there; tests
  // run as root, so a file where the directory should be stands in for it: EEXIST).
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-webhook-'));
  const blocker = path.join(root, 'lab');
  const file = path.join(blocker, 'pages.jsonl');
  let server: Server;
  let base: string;
  beforeAll(async () => {
    fs.writeFileSync(blocker, 'not a directory');
    const log = createLogger('lab-webhook-test');
    log.silent = true;
    server = http.createServer(createWebhook(file, { log }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const post = () =>
    fetch(`${base}/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload('firing')),
    });

  it('stays up, names the file in a 503 (Alertmanager retries), and records the retry once it can', async () => {
    const refused = await post();
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(
      `cannot write ${file} (EEXIST)`,
    );
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { pages: { error: string } } }).checks.pages.error).toContain(file);

    fs.rmSync(blocker);
    expect((await post()).status).toBe(200);
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});
