/**
 * GSO super-packets, the default: a local TCP bulk transfer over veth (which offloads
 * segmentation) is diverted at output in packets larger than the MTU; changing them (every data
 * byte inverted) still delivers every byte, changed, because divert fills the checksums and the
 * kernel segments the changed packet again. With `gso: false` no packet exceeds the MTU.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createNetns, connect, requirePrivilege, startPeer, type Netns } from '../_harness/netns.js';
import { createDivertSocket, type DivertSocketOptions } from '../../src/mod.js';
import { parsePacket } from '../../src/packet/parse.js';
import { countersAddUp } from '../../src/divert/counters.js';

const BYTES = 600_000;
let nextPort = 7400;

/** Runs one transfer a → b through a socket diverting a's TCP output to the server; inverts data bytes when `invert`. */
async function transfer(options: DivertSocketOptions, invert: boolean): Promise<{ largest: number; gsoSeen: number; server: { bytes: number; sha256: string }; stats: ReturnType<typeof Object> }> {
  const a: Netns = createNetns();
  const b: Netns = createNetns();
  const link = connect(a, b, 41);
  const port = nextPort++;
  await using sock = createDivertSocket({ ...options, port, netns: a.name, rules: [`-A output -p tcp --dport ${port}`] });
  await sock.ready;
  let largest = 0;
  let gsoSeen = 0;
  sock.onPacket((p) => {
    largest = Math.max(largest, p.packet.length);
    if (p.address.gso) gsoSeen++;
    if (invert) {
      const payload = parsePacket(p.packet).payload;
      for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ 0xff;
    }
    p.reinject();
  });
  const server = startPeer(b, ['tcp-count-server', String(port), '20000', '4'], 25_000);
  await server.ready;
  const client = startPeer(a, ['tcp-count-client', link.b4, String(port), String(BYTES), '20000'], 25_000);
  const result = (await server.result) as { bytes: number; sha256: string };
  await client.result.catch(() => undefined);
  await sock.close();
  return { largest, gsoSeen, server: result, stats: sock.stats };
}

function expectedSha(invert: boolean): string {
  const data = Buffer.alloc(BYTES);
  for (let i = 0; i < BYTES; i++) data[i] = (i & 255) ^ (invert ? 0xff : 0);
  return createHash('sha256').update(data).digest('hex');
}

describe('GSO super-packets (real kernel)', () => {
  test('by default TCP output arrives in packets over the MTU; changed ones are delivered whole and changed', async (t) => {
    if (!requirePrivilege(t)) return;
    const r = await transfer({}, true);
    assert.equal(r.server.bytes, BYTES, 'every byte arrived');
    assert.equal(r.server.sha256, expectedSha(true), 'every data byte inverted, none twice, none lost');
    assert.ok(r.largest > 1500, `a packet larger than the MTU was diverted (largest ${r.largest})`);
    assert.ok(r.gsoSeen > 0, 'marked as GSO in its address');
    assert.ok(countersAddUp(r.stats as never));
  });

  test('gso: false: no diverted packet is larger than the MTU, and changed ones arrive changed', async (t) => {
    if (!requirePrivilege(t)) return;
    const r = await transfer({ gso: false }, true);
    assert.equal(r.server.bytes, BYTES);
    assert.equal(r.server.sha256, expectedSha(true));
    assert.ok(r.largest <= 1500, `largest ${r.largest}`);
    assert.equal(r.gsoSeen, 0);
  });
});
