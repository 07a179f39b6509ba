/**
 * Fixtures for tests on the fake kernel: a small scripted host, sample packets (RFC 5737 / 3849
 * documentation addresses only), and waiting helpers for the fake's setImmediate readiness.
 * @module
 */
import { buildUdpPacket } from '../packet/build.js';
import type { FakeLink } from './_fake_rtnetlink.js';

/** lo, eth0 (IPv4 + link-local and global IPv6, listed link-local first) and eth1. */
export const HOST_LINKS: readonly FakeLink[] = [
  { index: 1, name: 'lo', ipv4: ['127.0.0.1/8'], ipv6: ['::1/128'] },
  { index: 2, name: 'eth0', mtu: 1500, mac: '02:00:5e:00:53:01', ipv4: ['192.0.2.1/24'], ipv6: ['fe80::1', '2001:db8::1'] },
  { index: 3, name: 'eth1', mtu: 9000, mac: '02:00:5e:00:53:02', ipv4: ['198.51.100.1/24', '198.51.100.2/24'], ipv6: ['2001:db8:1::1'] },
];

/** A UDP/IPv4 datagram from 203.0.113.5:4000 to 192.0.2.1:53, checksums filled. */
export function udp4(payload = 'hello'): Uint8Array {
  return buildUdpPacket({ src: '203.0.113.5', dst: '192.0.2.1', srcPort: 4000, dstPort: 53, payload });
}

/** A UDP/IPv6 datagram from 2001:db8:ffff::5 to 2001:db8::1, checksums filled. */
export function udp6(payload = 'hello'): Uint8Array {
  return buildUdpPacket({ src: '2001:db8:ffff::5', dst: '2001:db8::1', srcPort: 4000, dstPort: 53, payload });
}

/** Resolves after one turn of the event loop (the fake's readiness callbacks run by then). */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Resolves once `cond()` holds, checking every turn.
 * @throws {Error} after `timeoutMs` (naming `what`).
 */
export async function waitFor(cond: () => boolean, what = 'condition', timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
