/**
 * divert as its users get it: `npm pack` (with this machine's prebuilt addon), installed offline
 * into an empty project with install scripts disabled and no compiler, make or Python reachable
 * (/dev/null bind-mounted over each, in a private mount namespace), a strict TypeScript consumer
 * (module nodenext, TypeScript's default `types`) compiled against it with the repo's own
 * TypeScript, and run for real in a throwaway namespace: intercept, mangle, inject. Then, with
 * the prebuilt addons removed, `divert doctor` says the addon was not built and what a build needs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNetns, requirePrivilege } from '../_harness/netns.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');
/** What a source build would need: none of it may be reachable while installing and running. */
const BUILD_TOOLS = /^(cc|c\+\+|gcc|g\+\+|gcc-\d+|g\+\+-\d+|clang.*|make|gmake|python|python\d[\d.]*|[\w]+-linux-gnu-(gcc|g\+\+|cc)(-\d+)?)$/;

/** Every file on PATH (and the usual bin directories) named like a build tool. */
function buildTools(): string[] {
  const dirs = new Set([...(process.env['PATH'] ?? '').split(':'), '/usr/local/bin', '/usr/bin', '/bin'].filter((d) => d.startsWith('/')));
  const found: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) if (BUILD_TOOLS.test(n)) found.push(join(dir, n));
  }
  return found.sort();
}

/** Runs `cmd args` where every build tool is /dev/null; killed (its process group) after `timeoutMs`. */
function runWithoutBuildTools(cmd: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<{ code: number | null; out: string; err: string }> {
  const hide = buildTools().map((p) => `mount --bind /dev/null '${p}'`).join(' && ');
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
  delete env['NODE_TEST_CONTEXT'];
  const child = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', `${hide || 'true'} && exec "$@"`, 'sh', cmd, ...args], {
    cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => {
    err += `\n[killed after ${timeoutMs} ms]\n`;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, timeoutMs);
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    resolve({ code, out, err });
  }));
}

const CONSUMER = `import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createDivertSocket, DivertError, type DivertPacket, type DivertStats } from 'divert';
import { buildUdpPacket, parsePacket } from 'divert/packet';
import { FakeKernel } from 'divert/testing';
import pkg from 'divert/package.json' with { type: 'json' };

const PORT = 9999;
const rx = createSocket('udp4');
rx.bind(PORT, '127.0.0.1');
await once(rx, 'listening');
const got: string[] = [];
rx.on('message', (m) => got.push(m.toString()));

await using sock = createDivertSocket({ port: 4321, rules: [\`-A output -p udp -d 127.0.0.1 --dport \${PORT}\`], handleSignals: false });
await sock.ready;
const tx = createSocket('udp4');
tx.send('hello', PORT, '127.0.0.1');

// intercept and mangle: the payload upper-cased in place, reinjected with its checksum refilled
const seen: DivertPacket = await sock.recvfrom({ signal: AbortSignal.timeout(5000) });
const parsed = parsePacket(seen.packet);
if (parsed.ipVersion !== 4 || parsed.udp === undefined) throw new Error('expected UDP over IPv4');
const at = seen.packet.length - 5;
seen.packet.set(new TextEncoder().encode('HELLO'), at);
seen.reinject();

// inject: a new datagram, outbound; divert's mark keeps the output rule from taking it again
sock.sendto(buildUdpPacket({ src: '127.0.0.1', dst: '127.0.0.1', srcPort: 5555, dstPort: PORT, payload: 'injected' }));

const deadline = Date.now() + 5000;
while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
const stats: DivertStats = sock.stats;
rx.close();
tx.close();
console.log(JSON.stringify({ got, stats, version: pkg.version, errorClass: DivertError.name, fake: typeof FakeKernel.install }));
`;

const TSCONFIG = {
  compilerOptions: {
    module: 'nodenext', target: 'es2022', lib: ['es2022', 'esnext.disposable'], strict: true, noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true, resolveJsonModule: true, skipLibCheck: false, outDir: 'out', rootDir: '.',
  },
  files: ['consumer.ts'],
};

test('packed, installed offline without scripts or build tools, compiled strictly and run in a namespace', { timeout: 300_000 }, async (t) => {
  if (!requirePrivilege(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'divert-consumer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  // The host's prebuilt addon (arm64 needs a cross compiler: `npm run prebuilds` makes it), then the tarball.
  const prebuild = spawnSync(process.execPath, [join(ROOT, 'scripts', 'prebuild.mjs'), '--arch', process.arch], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(prebuild.status, 0, prebuild.stderr);
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(pack.status, 0, pack.stderr);
  const [packed] = JSON.parse(pack.stdout) as Array<{ filename: string; size: number; unpackedSize: number; files: Array<{ path: string }> }>;
  assert.ok(packed);
  t.diagnostic(`${packed.filename}: ${packed.size} bytes packed, ${packed.unpackedSize} unpacked, ${packed.files.length} files`);
  const files = packed.files.map((f) => f.path);
  assert.ok(files.includes(`prebuilds/linux-${process.arch}/node.napi.glibc.node`), 'the prebuilt addon is in the package');
  assert.ok(files.includes('LICENSE'));
  assert.ok(files.includes('node_modules/node-gyp-build/index.js'), 'the loader is bundled: installing needs no registry');
  assert.deepEqual(files.filter((f) => /_test\.|\/_test_|testdata\/|_harness|^build\//.test(f) && !f.includes('examples/')), [], 'nothing test-only');

  // An empty project, and everything it installs as tarballs: no registry (node-gyp-build is
  // bundled in divert's; @types/node and its undici-types are packed from this checkout's).
  const project = join(dir, 'app');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const types = ['@types/node', 'undici-types'].map((name) => {
    const r = spawnSync('npm', ['pack', '--json', '--pack-destination', dir, join(ROOT, 'node_modules', name)], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    return join(dir, (JSON.parse(r.stdout) as Array<{ filename: string }>)[0]!.filename);
  });
  const probe = await runWithoutBuildTools('sh', ['-c', 'for c in cc gcc make python3; do if "$c" --version >/dev/null 2>&1; then echo "RUNS $c"; fi; done'], project, 30_000);
  assert.doesNotMatch(probe.out, /RUNS/, 'no compiler, make or Python runs in the view');
  const install = await runWithoutBuildTools('npm', ['install', '--offline', '--ignore-scripts', '--no-package-lock', join(dir, packed.filename), ...types], project, 120_000);
  assert.equal(install.code, 0, install.err);

  writeFileSync(join(project, 'consumer.ts'), CONSUMER);
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  const tsc = await runWithoutBuildTools(TSC, ['-p', project], project, 120_000);
  assert.equal(tsc.code, 0, `tsc: ${tsc.out}${tsc.err}`);

  const ns = createNetns();
  const ran = await runWithoutBuildTools('ip', ['netns', 'exec', ns.name, process.execPath, join(project, 'out', 'consumer.js')], project, 30_000);
  assert.equal(ran.code, 0, ran.err);
  const result = JSON.parse(ran.out) as { got: string[]; stats: Record<string, number>; version: string; errorClass: string; fake: string };
  assert.deepEqual([...result.got].sort(), ['HELLO', 'injected'], 'the mangled datagram and the injected one arrived (in either order: verdicts go out in batches)');
  assert.equal(result.stats['received'], 1);
  assert.equal(result.stats['changed'], 1);
  assert.equal(result.stats['injected'], 1);
  assert.deepEqual([result.errorClass, result.fake], ['DivertError', 'function']);
  assert.equal(result.version, (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);

  // No prebuild fits any more and no build was made: the doctor says so, not "nfnetlink_queue".
  rmSync(join(project, 'node_modules', 'divert', 'prebuilds'), { recursive: true });
  const doctor = await runWithoutBuildTools(process.execPath, [join(project, 'node_modules', 'divert', 'bin', 'divert.js'), 'doctor', '--json'], project, 60_000);
  assert.equal(doctor.code, 1, doctor.err);
  const report = JSON.parse(doctor.out) as { usable: boolean; checks: Array<{ name: string; status: string; detail: string; fix?: string }> };
  const native = report.checks.find((c) => c.name === 'native addon');
  assert.equal(native?.status, 'fail');
  assert.match(native?.detail ?? '', /was not built, and no prebuilt one fits linux-/);
  assert.match(native?.fix ?? '', /a source build needs python3, make and a C compiler .*not found on PATH here: python3, make, cc/);
  assert.ok(!report.checks.some((c) => c.status === 'fail' && c.name !== 'native addon'), JSON.stringify(report.checks));
});
