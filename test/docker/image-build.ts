import dockerignore from '@balena/dockerignore';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * `docker build` without a Docker engine, for the instructions our Dockerfile uses (any other one
 * fails the build). A stage's filesystem is an overlay over this machine's root, in a private
 * mount namespace: what the stage writes (WORKDIR, COPY, the output of RUN) lands in the stage's
 * own upper directory and nowhere else, and RUN runs chrooted into it, so absolute paths such as
 * /out or /app mean what they mean in the image. The base image (node:24.21.0-trixie-slim) is
 * stood in for by this machine's Debian and the lab's Node 24.21 (.tools/); that much is assumed.
 */
export interface Stage {
  name: string;
  /** The stage's own files: everything it added to the base image. */
  upper: string;
  workdir: string;
  env: Record<string, string>;
  user?: string;
  healthcheck?: { flags: Record<string, string>; command: string[] };
}

export interface BuildOptions {
  dockerfile: string;
  /** The repository: the build context before .dockerignore. */
  context: string;
  /** Where the stages' filesystems go (a fresh directory). */
  work: string;
  /** What `--mount=type=cache,target=X` binds at X: a directory of this machine. */
  caches: Record<string, string>;
  /** PATH of the base image: where node, npm and npx are. */
  basePath: string;
  /**
   * This machine's network settings that a build's RUN sees through the engine here (a proxy's
   * CA, proxy addresses): not part of the image, so not in the Dockerfile.
   */
  network: Record<string, string>;
  log: (line: string) => void;
}

export class BuildError extends Error {}

const SUPPORTED = ['FROM', 'WORKDIR', 'COPY', 'RUN', 'ENV', 'USER', 'HEALTHCHECK'];

const flagsOf = (instruction: Instruction): Record<string, string> =>
  Object.fromEntries(
    (
      (
        instruction as unknown as { getFlags?: () => Array<{ getName(): string; getValue(): string | null }> }
      ).getFlags?.() ?? []
    ).map((flag) => [flag.getName(), flag.getValue() ?? '']),
  );

/** Every file of the build context, as Docker sends it: the repository minus .dockerignore. */
export function contextFiles(context: string): string[] {
  const patterns = readFileSync(path.join(context, '.dockerignore'), 'utf8').split('\n');
  // Pruning an ignored directory is exact only while no `!` pattern re-includes something in it.
  if (patterns.some((line) => line.trim().startsWith('!'))) throw new BuildError('`!` patterns are not emulated');
  const ignore = dockerignore().add(patterns);
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(context, dir), { withFileTypes: true })) {
      const rel = dir ? `${dir}/${entry.name}` : entry.name;
      if (ignore.ignores(rel)) continue;
      if (entry.isDirectory()) walk(rel);
      else files.push(rel);
    }
  };
  walk('');
  return files;
}

/** Lays out the context in `into`: only its files, with their modes. */
export function layOutContext(context: string, into: string): string[] {
  const files = contextFiles(context);
  for (const file of files) {
    mkdirSync(path.dirname(path.join(into, file)), { recursive: true });
    cpSync(path.join(context, file), path.join(into, file), { verbatimSymlinks: true });
  }
  return files;
}

/** Docker's COPY: a directory's contents go into the destination; several sources need a directory. */
function copy(sources: string[], destination: string, fromRoot: string, intoUpper: string, workdir: string) {
  const target = path.join(intoUpper, path.posix.resolve(workdir, destination));
  const toDirectory = destination.endsWith('/') || sources.length > 1;
  for (const source of sources) {
    const from = path.join(fromRoot, source);
    if (!existsSync(from)) throw new BuildError(`COPY ${source}: no such file in the ${fromRoot} tree`);
    const into = statSync(from).isDirectory() || !toDirectory ? target : path.join(target, path.basename(source));
    mkdirSync(statSync(from).isDirectory() ? into : path.dirname(into), { recursive: true });
    cpSync(from, into, { recursive: true, verbatimSymlinks: true });
  }
}

/** RUN in the stage: sh -c inside the stage's overlay, chrooted, with the cache mounts bound. */
function run(stage: Stage, command: string, caches: Record<string, string>, options: BuildOptions) {
  const work = path.join(options.work, `${stage.name}.overlay`);
  const merged = path.join(work, 'merged');
  mkdirSync(path.join(work, 'work'), { recursive: true });
  mkdirSync(merged, { recursive: true });
  const binds = Object.entries(caches).map(([target, source]) => {
    mkdirSync(source, { recursive: true });
    return `mkdir -p "$M${target}" && mount --bind "${source}" "$M${target}"`;
  });
  const env = Object.entries({ ...options.network, PATH: options.basePath, HOME: '/root', ...stage.env }).map(
    ([k, v]) => `${k}=${v}`,
  );
  const script = [
    'set -e',
    `M="${merged}"`,
    `mount -t overlay overlay -o lowerdir=/,upperdir="${stage.upper}",workdir="${work}/work" "$M"`,
    'mount --rbind /dev "$M/dev"',
    'mount -t proc proc "$M/proc"',
    ...binds,
    `mkdir -p "$M${stage.workdir}"`,
    'shift',
    `exec chroot "$M" /usr/bin/env -i "$@" /bin/sh -c 'cd "$0" && exec /bin/sh -c "$1"' "${stage.workdir}" "$CMD"`,
  ].join('\n');
  const result = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', '--', ...env], {
    env: { ...process.env, CMD: command },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0)
    throw new BuildError(`RUN ${command}\nexited ${result.status}:\n${result.stdout}\n${result.stderr}`.slice(-6000));
}

/** Runs every stage of the Dockerfile; returns them by name (the last one is the image). */
export function build(options: BuildOptions): Stage[] {
  const dockerfile = DockerfileParser.parse(readFileSync(options.dockerfile, 'utf8'));
  const context = path.join(options.work, 'context');
  layOutContext(options.context, context);
  const stages: Stage[] = [];
  let stage: Stage | undefined;
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    if (!SUPPORTED.includes(keyword)) throw new BuildError(`${keyword} is not emulated`);
    const args = instruction.getArguments().map((a) => a.getValue());
    const flags = flagsOf(instruction);
    options.log(`${keyword} ${instruction.getArgumentsContent() ?? ''}`);
    if (keyword === 'FROM') {
      const name = args[2] ?? `stage-${stages.length}`;
      stage = { name, upper: path.join(options.work, `${name}.rootfs`), workdir: '/', env: {} };
      mkdirSync(stage.upper, { recursive: true });
      stages.push(stage);
      continue;
    }
    if (!stage) throw new BuildError(`${keyword} before FROM`);
    if (keyword === 'WORKDIR') {
      stage.workdir = path.posix.resolve(stage.workdir, args[0]);
      mkdirSync(path.join(stage.upper, stage.workdir), { recursive: true });
    } else if (keyword === 'ENV') {
      for (const pair of args) stage.env[pair.slice(0, pair.indexOf('='))] = pair.slice(pair.indexOf('=') + 1);
    } else if (keyword === 'USER') {
      stage.user = args[0];
    } else if (keyword === 'COPY') {
      const from = flags.from ? stages.find((s) => s.name === flags.from)?.upper : context;
      if (!from) throw new BuildError(`COPY --from=${flags.from}: no such stage`);
      copy(args.slice(0, -1), args.at(-1) ?? '', from, stage.upper, stage.workdir);
    } else if (keyword === 'RUN') {
      const caches: Record<string, string> = {};
      if (flags.mount) {
        const mount = Object.fromEntries(flags.mount.split(',').map((kv) => kv.split('=')));
        if (mount.type !== 'cache' || !options.caches[mount.target])
          throw new BuildError(`RUN --mount=${flags.mount} is not emulated`);
        caches[mount.target] = options.caches[mount.target];
      }
      run(stage, instruction.getArgumentsContent() ?? '', caches, options);
    } else if (keyword === 'HEALTHCHECK') {
      const raw = instruction.getArgumentsContent() ?? '';
      const json = /CMD\s+(\[.*\])\s*$/s.exec(raw)?.[1];
      if (!json) throw new BuildError(`HEALTHCHECK ${raw}: only the exec form is emulated`);
      stage.healthcheck = { flags, command: JSON.parse(json) as string[] };
    }
  }
  return stages;
}

/** The image's tree as a container sees it: the stage's files, readable by any user. */
export function exportImage(stage: Stage, into: string): void {
  execFileSync('cp', ['-a', `${stage.upper}/.`, into]);
  chmodSync(into, 0o755);
}
