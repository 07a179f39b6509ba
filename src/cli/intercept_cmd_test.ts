import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeKernel } from '../testing/fake_kernel.js';
import { HOST_LINKS, udp4, udp6, waitFor } from '../testing/fixtures.js';
import { NF_INET_HOOKS } from '../netlink/netfilter.js';
import { NF_VERDICT, NFQA_SKB } from '../nfqueue/constants.js';
import { parsePcap } from '../pcap/pcap_reader.js';
import { verifyChecksums } from '../packet/checksum.js';
import { main } from './main.js';
import { collectingIo } from './io.js';

function install(t: TestContext): FakeKernel {
  const kernel = FakeKernel.install({ keepAlive: true }); // the intercept loop waits on the fake's poller
  kernel.setLinks(HOST_LINKS);
  t.after(() => kernel.uninstall());
  return kernel;
}

/** Runs `divert intercept 7 …args` on the fake kernel, feeding it `packets` once it listens. */
async function intercept(kernel: FakeKernel, args: string[], packets: Uint8Array[]): Promise<{ code: number; out: string; err: string }> {
  const io = collectingIo();
  const running = main(['intercept', '7', '-c', String(packets.length), ...args], io);
  // The listening line comes once the port is bound and configured and the loop reads.
  await waitFor(() => /listening on divert port 7/.test(io.err.join('')), 'the listening line', 5000);
  for (const p of packets) kernel.enqueuePacket(7, p, { hook: NF_INET_HOOKS.NF_INET_PRE_ROUTING, indev: 2 });
  const code = await running;
  return { code, out: io.out.join(''), err: io.err.join('') };
}

test('divert intercept --json -x: stdout is JSON lines only, the bytes in a "hex" field (jq-parsable)', async (t) => {
  const kernel = install(t);
  const packets = [udp4('one'), udp6('two')];
  const r = await intercept(kernel, ['--json', '-x', '--firewall', '-A input -p udp'], packets);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.split('\n');
  assert.equal(lines.pop(), '', 'output ends with a newline');
  assert.equal(lines.length, 2, r.out);
  lines.forEach((line, i) => {
    const o = JSON.parse(line) as Record<string, unknown>; // throws on a hex dump line
    assert.equal(o['hex'], Buffer.from(packets[i]!).toString('hex'));
    assert.equal(o['length'], packets[i]!.length);
    assert.equal(o['protocol'], 'udp');
  });
  assert.deepEqual(kernel.verdicts.map((v) => v.verdict), [NF_VERDICT.NF_ACCEPT, NF_VERDICT.NF_ACCEPT]);
  // Without --json, -x still prints tcpdump's hex dump under each line.
  const plain = await intercept(kernel, ['-x'], [udp4('one')]);
  assert.equal(plain.code, 0, plain.err);
  assert.match(plain.out, /^\d\d:\d\d:\d\d\.\d{6} in  eth0 IP 203\.0\.113\.5\.4000 > 192\.0\.2\.1\.53: udp, length 31, reinject\n\t0x0000:  4500 001f /);
});

test('divert intercept: the line format says "length" is the IP total length (help and the listening line)', async (t) => {
  const kernel = install(t);
  const help = collectingIo();
  assert.equal(await main(['intercept', '--help'], help), 0);
  assert.match(help.out.join(''), /length N is the IP total length, headers included/);
  const r = await intercept(kernel, [], [udp4('hello')]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /listening on divert port 7; length = IP total length, headers included\n/);
  // 20 (IPv4) + 8 (UDP) + 5: the IP total length, where tcpdump would print the UDP length 13.
  assert.match(r.out, /: udp, length 33, reinject\n$/);
  const json = await intercept(kernel, ['--json'], [udp4('hello')]);
  assert.doesNotMatch(json.err, /length =/, 'the legend goes with the line format only');
  assert.equal((JSON.parse(json.out) as { length: number }).length, 33);
});

test('divert intercept -w to an unwritable path fails before any rule is installed or port bound', async (t) => {
  const kernel = install(t);
  const dir = mkdtempSync(join(tmpdir(), 'divert-w-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'no-such-dir', 'out.pcap');
  for (const args of [['7', '--firewall', '-A input -p udp'], ['--filter', 'inbound and udp']]) {
    const io = collectingIo();
    const code = await main(['intercept', ...args, '-w', path], io);
    assert.equal(code, 1, io.err.join(''));
    assert.match(io.err.join(''), new RegExp(`cannot write the pcap file "${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}": ENOENT.*nothing was installed`));
    assert.equal(kernel.nftables.batches.length, 0, `${args.join(' ')}: no nf_tables batch was sent`);
    assert.equal(kernel.configLog.length, 0, `${args.join(' ')}: no queue was bound`);
    assert.equal(kernel.openSockets().length, 0);
  }
});

test('divert intercept -w: a packet the kernel left with partial checksums (offload) is captured with them filled, as on the wire', async (t) => {
  const kernel = install(t);
  const dir = mkdtempSync(join(tmpdir(), 'divert-pcap-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'out.pcap');
  const bytes = udp4('offloaded');
  bytes[26] = 0x12; // a partial UDP checksum, as the kernel leaves it with CSUMNOTREADY
  bytes[27] = 0x34;
  const io = collectingIo();
  const running = main(['intercept', '7', '-c', '1', '-w', file], io);
  await waitFor(() => /listening on divert port 7/.test(io.err.join('')), 'the listening line', 5000);
  kernel.enqueuePacket(7, bytes, { hook: NF_INET_HOOKS.NF_INET_LOCAL_OUT, outdev: 2, skbInfo: NFQA_SKB.NFQA_SKB_CSUMNOTREADY });
  assert.equal(await running, 0, io.err.join(''));
  const [captured] = parsePcap(readFileSync(file)).records;
  assert.deepEqual(verifyChecksums(captured!.data), { ip: true, udp: true });
  assert.deepEqual(kernel.verdicts.map((v) => [v.verdict, v.payload]), [[NF_VERDICT.NF_ACCEPT, undefined]], 'the packet itself goes on unchanged');
});
