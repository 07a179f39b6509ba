#!/usr/bin/env node
// Builds the native addon with node-gyp against the headers of the Node.js that runs this script
// (<prefix>/include/node, shipped with Debian's nodejs and with official builds), so the build
// never downloads headers: `npm ci` works offline. Run through npm, which puts node-gyp on PATH.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';

const prefix = dirname(dirname(process.execPath));
const args = ['rebuild'];
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
const r = spawnSync('node-gyp', args, { stdio: 'inherit' });
if (r.error) {
  console.error(`divert: cannot run node-gyp (${r.error.message}); run this through npm ("npm run build:native")`);
  process.exit(1);
}
process.exit(r.status ?? 1);
