import fs from 'node:fs';
import path from 'node:path';
import type { LabPaths } from '../paths';
import { ROOT } from '../paths';
import type { Component } from '../topology';
import { installedRulesDir } from './learner-rules';

/**
 * Lite mode runs Prometheus and Alertmanager with the same config files as the full stack:
 * prometheus.yml is copied unchanged (its rules/ linked beside it, learner/ empty) and only the
 * target file differs; alertmanager.yml differs only in where the webhook is.
 */
export function writeObservabilityConfig(paths: LabPaths, list: Component[], root = ROOT): void {
  const source = path.join(root, 'observability');
  const targets = path.join(paths.prometheus, 'targets');
  // Written whole each time: a target file left from an older lab would be scraped too.
  fs.rmSync(targets, { force: true, recursive: true });
  fs.mkdirSync(targets, { recursive: true });
  fs.copyFileSync(path.join(source, 'prometheus/prometheus.yml'), path.join(paths.prometheus, 'prometheus.yml'));
  const rules = path.join(paths.prometheus, 'rules');
  fs.rmSync(rules, { force: true, recursive: true });
  fs.symlinkSync(path.join(source, 'prometheus/rules'), rules);
  // learner/*.rules.yml: the learner's own rules, installed by `lab rules load`; none at start.
  fs.rmSync(installedRulesDir(paths), { force: true, recursive: true });
  fs.mkdirSync(installedRulesDir(paths));
  fs.writeFileSync(path.join(targets, 'lite.json'), `${JSON.stringify(targetGroups(list), null, 2)}\n`);

  const webhookPort = list.find((c) => c.kind === 'webhook')?.port ?? 9099;
  const alertmanager = fs.readFileSync(path.join(source, 'alertmanager/alertmanager.yml'), 'utf8');
  fs.mkdirSync(paths.alertmanager, { recursive: true });
  fs.writeFileSync(
    path.join(paths.alertmanager, 'alertmanager.yml'),
    alertmanager.replace(/lab-webhook:9099/g, `127.0.0.1:${webhookPort}`).replace(/lab-webhook/g, '127.0.0.1'),
  );
}

/**
 * Prometheus' file_sd target groups, one per job: 127.0.0.1 addresses in lite mode (targets/lite.json),
 * the containers' names in the full stack (`make generate` writes targets/compose.json with `host`).
 */
export function targetGroups(
  list: Component[],
  host: (c: Component) => string = () => '127.0.0.1',
): Array<{ labels: { job: string }; targets: string[] }> {
  const groups = new Map<string, string[]>();
  for (const c of list) groups.set(c.job, [...(groups.get(c.job) ?? []), `${host(c)}:${c.port}`]);
  return [...groups].map(([job, targets]) => ({ labels: { job }, targets }));
}
