/**
 * `make generate`: writes what the files that cannot import the service manifest (lab/src/topology.ts)
 * say about the services: YAML, JSON, shell and the Dockerfile. A port, schema or Node flag is then
 * written once; lab/test/generate.test.ts regenerates everything in memory and names a stale file.
 * Only the derived parts of a hand-written file are touched, so its comments and the rest stay.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, parseDocument, stringify, type Document, type Node } from 'yaml';
import { labPaths, ROOT, workspaces } from './paths';
import { targetGroups } from './runtime/observability';
import {
  components,
  LAB_PROCESSES,
  NODE_ENV,
  SCHEMA_SERVICES,
  SERVICES,
  wiringEnv,
  type Component,
  type Kind,
  type ServiceSpec,
} from './topology';

export const GENERATED = [
  'docker-compose.yml',
  'observability/prometheus/targets/compose.json',
  'docker/mysql-init/01-databases.sh',
  'Dockerfile',
] as const;

type File = (typeof GENERATED)[number];

// The traffic generator shares the gateway's network namespace in docker-compose.yml: its port is
// published by, and scraped at, the gateway container.
const composeHost = (name: string) => (name === LAB_PROCESSES.traffic.name ? 'gateway' : name);
// Docker only: the collector's own metrics (8888) and the span metrics it derives (8889).
const COLLECTOR = { labels: { job: 'otel-collector' }, targets: ['otel-collector:8888', 'otel-collector:8889'] };

const NODE_KINDS = new Set<Kind>(['service', 'webhook', 'traffic']);
const portOf = (instance: string) => SERVICES.find((s) => s.name === instance)?.port;

/** The keys of one Node container that come from the manifest. */
function nodeContainer(command: string[], port: number, nodeFlags: readonly string[], env: Record<string, string>) {
  return {
    command: ['node', ...command],
    environment: {
      PORT: String(port),
      ...env,
      NODE_OPTIONS: nodeFlags.join(' '),
      ...NODE_ENV,
    },
  };
}

function serviceContainer(spec: ServiceSpec) {
  const env = wiringEnv(spec, '${SERVICE_VERSION}', (instance) => `http://${instance}:${portOf(instance)}`);
  if (spec.needs.includes('mysql')) {
    const password = `\${${spec.service.toUpperCase()}_DB_PASSWORD}`;
    env.MYSQL_URL = `mysql://${spec.service}:${password}@mysql:3306/${spec.service}`;
  }
  const main = `services/${spec.service}/dist/main.js`;
  return nodeContainer(['--require', '@shopnow/kit/telemetry', main], spec.port, spec.nodeFlags, env);
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

/** A value as the file writes it: flow sequences on one line, strings quoted only where YAML needs it. */
const render = (value: unknown): string =>
  Array.isArray(value)
    ? `[${value.map(render).join(', ')}]`
    : stringify(value, { singleQuote: true, lineWidth: 0 }).trimEnd();

/**
 * The edits that make `keys` (a map's path) hold `entries`: a value that differs is rewritten in
 * place, a missing key is added after the map's last line, and with `owned` the keys it matches
 * that `entries` lacks are removed. Everything else in the file, comments included, stays as written.
 */
function mapEdits(
  doc: Document,
  text: string,
  keys: string[],
  entries: Record<string, unknown>,
  owned?: RegExp,
): Edit[] {
  const map = doc.getIn(keys, true);
  if (!isMap(map)) throw new Error(`docker-compose.yml: ${keys.join('.')} is not a map`);
  // Every key with its value's place in the text (a key written without a value has none).
  const pairs = map.items.flatMap(({ key, value }) => {
    const node = value as Node | null;
    return isScalar(key) && key.range && node?.range
      ? [{ key: String(key.value), keyStart: key.range[0], node, start: node.range[0], end: node.range[1] }]
      : [];
  });
  const lineStart = (offset: number) => text.lastIndexOf('\n', offset) + 1;
  const lineEnd = (offset: number) => text.indexOf('\n', offset);
  const edits: Edit[] = [];
  for (const { key, keyStart, node, start, end } of pairs) {
    if (owned?.test(key) && !(key in entries))
      edits.push({ start: lineStart(keyStart) - 1, end: lineEnd(end), text: '' });
    else if (key in entries && JSON.stringify(node.toJSON()) !== JSON.stringify(entries[key]))
      edits.push({ start, end, text: render(entries[key]) });
  }
  const indent = ' '.repeat(pairs[0].keyStart - lineStart(pairs[0].keyStart));
  const last = lineEnd(pairs[pairs.length - 1].end);
  const present = new Set(pairs.map(({ key }) => key));
  const added = Object.entries(entries).filter(([key]) => !present.has(key));
  if (added.length > 0)
    edits.push({
      start: last,
      end: last,
      text: added.map(([key, value]) => `\n${indent}${key}: ${render(value)}`).join(''),
    });
  return edits;
}

function compose(text: string, plan: Component[]): string {
  const doc = parseDocument(text);
  const published = new Map<string, string[]>();
  for (const c of plan.filter((c) => NODE_KINDS.has(c.kind))) {
    const host = composeHost(c.name);
    published.set(host, [...(published.get(host) ?? []), `127.0.0.1:${c.port}:${c.port}`]);
  }
  const containers: Record<string, ReturnType<typeof nodeContainer>> = Object.fromEntries(
    SERVICES.map((spec) => [spec.name, serviceContainer(spec)]),
  );
  for (const { name, port, script, nodeFlags } of Object.values(LAB_PROCESSES))
    containers[name] = nodeContainer([script], port, nodeFlags, {});
  const edits: Edit[] = [];
  for (const [name, { command, environment }] of Object.entries(containers)) {
    const ports = published.get(name);
    edits.push(...mapEdits(doc, text, ['services', name], { command, ...(ports && { ports }) }));
    edits.push(...mapEdits(doc, text, ['services', name, 'environment'], environment));
  }
  // One password per schema, read by the MariaDB init script.
  const passwords = Object.fromEntries(
    SCHEMA_SERVICES.map((service) => `${service.toUpperCase()}_DB_PASSWORD`).map((v) => [
      v,
      `\${${v}:?set ${v} in .env}`,
    ]),
  );
  edits.push(...mapEdits(doc, text, ['services', 'mysql', 'environment'], passwords, /_DB_PASSWORD$/));
  let out = text;
  for (const edit of edits.sort((a, b) => b.start - a.start))
    out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  return out;
}

/** One target group a line, as Prettier writes it. */
const targetLine = ({ labels, targets }: { labels: { job: string }; targets: string[] }) =>
  `  { "labels": { "job": ${JSON.stringify(labels.job)} }, "targets": [${targets.map((t) => JSON.stringify(t)).join(', ')}] }`;

const BEGIN = '# BEGIN generated by `make generate` from the manifest (lab/src/generate.ts): do not edit';
const END = '# END generated';

/** Replaces what sits between the markers of a hand-written file. */
function block(file: File, text: string, lines: string[]): string {
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${file}: the generated block's markers are missing`);
  return `${text.slice(0, start)}${[BEGIN, ...lines].join('\n')}\n${text.slice(end)}`;
}

/** Every generated file as it should read now, from the manifest and the hand-written rest in `root`. */
export function generate(root = ROOT): Array<{ file: File; text: string }> {
  const read = (file: File) => fs.readFileSync(path.join(root, file), 'utf8');
  const plan = components({ paths: labPaths({ LAB_HOME: root }), env: {} });
  const targets = [...targetGroups(plan, (c) => composeHost(c.name)), COLLECTOR];
  return [
    { file: 'docker-compose.yml', text: compose(read('docker-compose.yml'), plan) },
    { file: 'observability/prometheus/targets/compose.json', text: `[\n${targets.map(targetLine).join(',\n')}\n]\n` },
    {
      file: 'docker/mysql-init/01-databases.sh',
      text: block('docker/mysql-init/01-databases.sh', read('docker/mysql-init/01-databases.sh'), [
        `SERVICES=(${SCHEMA_SERVICES.join(' ')})`,
      ]),
    },
    {
      file: 'Dockerfile',
      text: block(
        'Dockerfile',
        read('Dockerfile'),
        workspaces(root).map((dir) => `COPY ${dir}/package.json ${dir}/`),
      ),
    },
  ];
}

/** The generated files whose text in `root` differs from what `make generate` would write, with that text. */
export function staleFiles(root = ROOT): Array<{ file: File; text: string }> {
  return generate(root).filter(({ file, text }) => fs.readFileSync(path.join(root, file), 'utf8') !== text);
}

if (require.main === module) {
  if (process.argv.includes('--list')) console.log(GENERATED.join('\n'));
  else
    for (const { file, text } of staleFiles()) {
      fs.writeFileSync(path.join(ROOT, file), text);
      console.log(`make generate: wrote ${file}`);
    }
}
