/**
 * How to unit-test a divert program without root: divert/testing's FakeKernel takes the native
 * addon's place, the test feeds packets to the program's divert port and reads the verdicts.
 * Run with the suite (`npm test`), or alone: `node --test dist/examples/fake_kernel_test.js`.
 * @module
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDivertSocket, type DivertSocket } from 'divert';
import { buildUdpPacket, parsePacket, tryParsePacket, verifyChecksums } from 'divert/packet';
import { FakeKernel, HOST_LINKS, NF_INET_HOOKS, NF_VERDICT, udp4, waitFor } from 'divert/testing';

/** The program under test: drops DNS queries to `blocked`, reinjects the rest with the TTL lowered by one. */
async function dnsBlocker(sock: DivertSocket, blocked: string): Promise<void> {
  for await (const p of sock) {
    const parsed = tryParsePacket(p.packet);
    if (parsed?.udp && parsed.dstPort === 53 && parsed.dstAddr === blocked) {
      p.drop();
      continue;
    }
    if (parsed?.ipv4) parsed.ipv4.ttl -= 1;
    p.reinject(); // changed: goes back with its checksums refilled
  }
}

test('dnsBlocker drops DNS to the blocked resolver and lowers the TTL of the rest', async (t) => {
  const kernel = FakeKernel.install({ keepAlive: true }); // the socket's poller keeps the loop alive, as libuv's does
  t.after(() => kernel.uninstall());
  kernel.setLinks(HOST_LINKS);
  const sock = createDivertSocket({ port: 7, handleSignals: false });
  await sock.ready;
  const running = dnsBlocker(sock, '192.0.2.1');

  const inbound = { hook: NF_INET_HOOKS.NF_INET_PRE_ROUTING, indev: 2 }; // arrived on eth0
  const ntp = buildUdpPacket({ src: '203.0.113.5', dst: '192.0.2.1', srcPort: 4000, dstPort: 123, payload: 'time?' });
  const dnsId = kernel.enqueuePacket(7, udp4('query'), inbound); // 203.0.113.5 → 192.0.2.1:53
  const ntpId = kernel.enqueuePacket(7, ntp, inbound);
  await waitFor(() => kernel.verdicts.length === 2, 'two verdicts');

  const [dns, other] = kernel.verdicts;
  assert.deepEqual([dns?.id, dns?.verdict], [dnsId, NF_VERDICT.NF_DROP]);
  assert.deepEqual([other?.id, other?.verdict], [ntpId, NF_VERDICT.NF_ACCEPT]);
  const sent = other?.payload ?? new Uint8Array(); // the bytes a changed packet went back with
  assert.equal(parsePacket(sent).ipv4?.ttl, 63, 'the reinjected packet carries TTL 64 - 1');
  assert.deepEqual(verifyChecksums(sent), { ip: true, udp: true });
  assert.equal(sock.stats.dropped, 1);
  assert.equal(sock.stats.changed, 1);

  await sock.close();
  await running;
});
