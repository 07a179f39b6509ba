/**
 * `--classic`: exactly what the seed's §6.4 interceptor printed, printf formats included:
 *
 * ```
 * divert: The packet looks like this:
 * 45 00 00 54 …            (first 40 bytes, "%02x " each, a newline after every 16th)
 * divert: Source address: 198.18.1.1
 * divert: Destination address: 198.18.2.2
 * divert: Receiving IF address: 198.18.1.2      (0.0.0.0 for an outgoing packet)
 * divert: Protocol number: 1
 * divert Reinjecting DIVERT 84 bytes           (sic: no colon, as in the C)
 * divert: 84 bytes reinjected.
 * ```
 * The C read 40 bytes even from a shorter packet (stack garbage); here a short packet prints
 * what it has. IPv6 packets print IPv6 addresses and the upper-layer protocol.
 * @module
 */
import { tryParsePacket } from '../../packet/mod.js';

export interface ClassicAddress {
  /** Receiving interface address (`sin.sin_addr`), `0.0.0.0` / `::` when outbound. */
  address: string;
}

/** The C loop: `printf("%02x ", …)` for the first 40 bytes, `\n` after every 16th, then `\n`. */
export function classicHex(bytes: Uint8Array): string {
  const n = Math.min(40, bytes.length);
  let out = '';
  for (let i = 0; i < n; i++) {
    out += bytes[i]!.toString(16).padStart(2, '0') + ' ';
    if ((i + 1) % 16 === 0) out += '\n';
  }
  if (n % 16 !== 0) out += '\n';
  return out;
}

/** IN_MULTICAST for IPv4 (224.0.0.0/4) or ff00::/8 for IPv6. */
export function isMulticast(dst: string): boolean {
  if (dst.includes(':')) return dst.toLowerCase().startsWith('ff');
  const first = Number(dst.split('.')[0]);
  return first >= 224 && first <= 239;
}

/** Everything printed for one packet before reinjection (lines end with `\n`). */
export function formatClassicPacket(prog: string, bytes: Uint8Array, address: ClassicAddress): string {
  const p = tryParsePacket(bytes);
  const src = p?.srcAddr ?? '?';
  const dst = p?.dstAddr ?? '?';
  const proto = p?.protocol ?? bytes[9] ?? 0;
  let out = `${prog}: The packet looks like this:\n${classicHex(bytes)}`;
  out += `${prog}: Source address: ${src}\n`;
  out += `${prog}: Destination address: ${dst}\n`;
  out += `${prog}: Receiving IF address: ${address.address}\n`;
  out += `${prog}: Protocol number: ${proto}\n`;
  if (isMulticast(dst)) {
    out += `${prog}: Multicast address!\n`;
    // The C set IP_MULTICAST_IF for outgoing multicast; a verdict keeps the packet's own
    // interface, so the equivalent always succeeds.
    if (address.address === '0.0.0.0' || address.address === '::') out += `${prog}: set_interface returns 0 with errno =0\n`;
  }
  return out;
}

/** The two reinjection lines; `sent` is sendto's result (<= 0 adds the C's "Oops" line). */
export function formatClassicReinject(prog: string, length: number, sent: number, errno = 0): string {
  let out = `${prog} Reinjecting DIVERT ${length} bytes\n${prog}: ${sent} bytes reinjected.\n`;
  if (sent <= 0) out += `${prog}: Oops: errno = ${errno}\n`;
  return out;
}

/** The start-up lines: two on stderr, one on stdout, as the C printed them. */
export function classicBanner(prog: string): { stderr: string; stdout: string } {
  return { stderr: `${prog}:Creating a socket\n${prog}:Binding a socket\n`, stdout: `${prog}: Waiting for data...\n` };
}
