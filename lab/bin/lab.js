#!/usr/bin/env node
// The `lab` launcher. The CLI needs Node 24: on an older Node it re-executes itself with the
// Node 24 that `make deps` installs into .tools/, and it compiles the lab on first use.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const node24 = path.join(root, '.tools', 'node_modules', '.bin', 'node');
if (Number(process.versions.node.split('.')[0]) < 24 && fs.existsSync(node24)) {
  const result = spawnSync(node24, [__filename, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

const cli = path.join(__dirname, '..', 'dist', 'cli', 'cli.js');
if (!fs.existsSync(cli)) {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  const build = spawnSync(process.execPath, [tsc, '-b', path.join(__dirname, '..')], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(1);
}
require(cli);
