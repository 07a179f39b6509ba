import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { filterCommand } from './commands/filter.js';
import { main } from './main.js';
import { collectingIo } from './io.js';
import { encodePcapHeader, encodePcapRecord, PcapWriter } from '../pcap/pcap_writer.js';
import { buildUdpPacket } from '../packet/build.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = collectingIo();
  const code = await filterCommand(argv, io);
  return { code, out: io.out.join(''), err: io.err.join('') };
}

test('divert filter check: the canonical form, or the mistake with a caret under it (exit 2)', async () => {
  assert.deepEqual(await run('check', 'outbound && tcp.DstPort = 80'), { code: 0, out: 'ok: outbound and tcp.DstPort == 80\n', err: '' });
  const bad = await run('check', 'tcp.DstPort == 80 and udp.Srcport == 1');
  assert.equal(bad.code, 2);
  const lines = bad.err.split('\n');
  assert.match(lines[0] ?? '', /^divert filter: .*Srcport.* at offset 22/);
  assert.equal(lines[1], '  tcp.DstPort == 80 and udp.Srcport == 1');
  assert.equal(lines[2], `  ${' '.repeat(22)}^`);
});

test('divert filter explain: the kernel rules in nft notation and what user space decides', async () => {
  const r = await run('explain', 'inbound and udp.DstPort == 53');
  assert.equal(r.code, 0);
  assert.match(r.out, /^filter: inbound and udp\.DstPort == 53\n/);
  assert.match(r.out, /rule 0 prerouting ipv4 exact\n {2}\[ meta load nfproto => reg 1 \]/);
  assert.match(r.out, /\[ payload load 2b @ transport header \+ 2 => reg 1 \]\n {2}\[ cmp eq reg 1 0x00003500 \]/);
  const residue = await run('explain', 'udp.Payload[-1] == 0x21');
  assert.match(residue.out, /residu/i);
});

test('divert filter test: which packets of a capture match, as outbound packets unless told', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'divert-filter-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter((c) => void chunks.push(c.slice()));
  w.writePacket(buildUdpPacket({ src: '192.0.2.1', dst: '192.0.2.2', srcPort: 4000, dstPort: 53, payload: 'a' }), 1_700_000_000_000);
  w.writePacket(buildUdpPacket({ src: '192.0.2.1', dst: '192.0.2.2', srcPort: 4000, dstPort: 54, payload: 'b' }), 1_700_000_000_001);
  const file = join(dir, 'two.pcap');
  writeFileSync(file, Buffer.concat(chunks));
  const r = await run('test', 'udp.DstPort == 53', '-r', file);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^ {4}1 {2}match {5}udp 192\.0\.2\.1:4000 > 192\.0\.2\.2:53 /m);
  assert.match(r.out, /^ {4}2 {2}no match  udp .*:54 /m);
  assert.match(r.out, /1 of 2 packets match "udp\.DstPort == 53"\n$/);
  assert.match((await run('test', 'inbound and udp', '-r', file)).out, /0 of 2 packets match/);
  assert.match((await run('test', 'inbound and udp', '-r', file, '--inbound')).out, /2 of 2 packets match/);
  assert.equal((await run('test', 'udp')).code, 2, '-r is required');
  assert.equal((await run('bogus', 'udp')).code, 2);
  // DLT_RAW (12, 14 on OpenBSD) in place of LINKTYPE_RAW is raw IP too; Ethernet (1) is refused.
  const packet = buildUdpPacket({ src: '192.0.2.1', dst: '192.0.2.2', srcPort: 4000, dstPort: 53, payload: 'a' });
  for (const [linktype, code] of [[12, 0], [14, 0], [1, 2]] as const) {
    const other = join(dir, `linktype-${linktype}.pcap`);
    writeFileSync(other, Buffer.concat([encodePcapHeader(65535, linktype), encodePcapRecord(packet, 1_700_000_000_000)]));
    const o = await run('test', 'udp', '-r', other);
    assert.equal(o.code, code, `link type ${linktype}: ${o.err}`);
    if (code === 2) assert.match(o.err, /holds link type 1; divert reads raw IP captures \(link type 101, /);
  }
});

test('divert --help lists the filter command', async () => {
  const io = collectingIo();
  assert.equal(await main(['--help'], io), 0);
  assert.match(io.out.join(''), /filter <op> …\s+check, explain or test a WinDivert filter/);
});
