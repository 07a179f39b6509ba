#!/usr/bin/env node
// npm's install step for divert. An installed package carries prebuilt addons (prebuilds/, made
// by scripts/prebuild.mjs): when one fits this machine and loads, there is nothing to do — no
// compiler, no Python, no download. Otherwise (another platform, `npm rebuild divert
// --build-from-source`, or a git checkout, whose native/ may be newer than any prebuild) the
// addon is built from source by scripts/build_native.mjs, and when that cannot work the message
// says exactly what is missing. Installing with --ignore-scripts is fine where a prebuild fits.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';

const ROOT = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const checkout = existsSync(join(ROOT, '.git'));
const fromSource = process.env.npm_config_build_from_source === 'true';

if (!checkout && !fromSource) {
  try {
    const path = require('node-gyp-build').resolve(ROOT);
    require(path);
    process.exit(0);
  } catch (err) {
    console.error(`divert: no prebuilt native addon fits ${process.platform}-${process.arch} (${err.message.split('\n')[0]}); building it from source`);
  }
}

// An executable file on PATH (not, e.g., /dev/null mounted over it).
const onPath = (cmd) => (process.env.PATH ?? '').split(':').some((dir) => {
  try {
    accessSync(join(dir, cmd), constants.X_OK);
    return dir !== '' && statSync(join(dir, cmd)).isFile();
  } catch {
    return false;
  }
});
const missing = ['python3', 'make', 'cc'].filter((cmd) => !onPath(cmd));
const nodedir = dirname(dirname(process.execPath));
const headers = existsSync(join(nodedir, 'include', 'node', 'node_api.h'));
if (missing.length > 0) {
  console.error(
    `divert: cannot build the native addon from source: ${missing.join(', ')} not found on PATH. ` +
      'A source build needs python3, make and a C compiler (cc: gcc or clang; Debian: apt-get install python3 make gcc)' +
      (headers ? '' : `, and Node.js's headers (not in ${nodedir}/include/node: node-gyp would download them)`) +
      '. divert ships prebuilt addons for linux-x64 and linux-arm64 (glibc) only.',
  );
  process.exit(1);
}
const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build_native.mjs')], { stdio: 'inherit' });
process.exit(r.status ?? 1);
