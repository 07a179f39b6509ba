/**
 * The one question every path that sends bytes into the kernel asks first: is this a whole IP
 * packet, with a header that fits and a length field that matches the bytes given? A verdict
 * payload or an injected packet that fails it would be dropped (or worse, cut) by the kernel.
 * @module
 */
import { PacketError } from '../errors.js';
import { u16be } from './_bytes.js';

/**
 * Checks that `bytes` hold exactly one IPv4 or IPv6 packet: a known version, a header that fits,
 * and an IPv4 total length / IPv6 payload length equal to the bytes given.
 * @returns the IP version
 * @throws {PacketError} naming the layer and the fault
 * @example checkIpPacket(buildUdpPacket({ src: '192.0.2.1', dst: '192.0.2.2', srcPort: 1, dstPort: 2 })); // 4
 */
export function checkIpPacket(bytes: Uint8Array): 4 | 6 {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`An IP packet must be a Uint8Array (or Buffer), got ${typeof bytes}`);
  if (bytes.length === 0) throw new PacketError('IP', 'empty: no bytes given');
  const version = bytes[0]! >> 4;
  if (version === 4) {
    const ihl = (bytes[0]! & 0x0f) * 4;
    if (bytes.length < 20 || ihl < 20 || ihl > bytes.length) throw new PacketError('IPv4', `truncated header (${bytes.length} bytes, IHL ${ihl / 4})`);
    const total = u16be(bytes, 2);
    if (total !== bytes.length) throw new PacketError('IPv4', `total length ${total} does not match the ${bytes.length} bytes given`);
    return 4;
  }
  if (version === 6) {
    if (bytes.length < 40) throw new PacketError('IPv6', `truncated header (${bytes.length} bytes, needs 40)`);
    const payload = u16be(bytes, 4);
    if (payload + 40 !== bytes.length) throw new PacketError('IPv6', `payload length ${payload} does not match the ${bytes.length - 40} bytes after the header`);
    return 6;
  }
  throw new PacketError('IP', `version ${version} (the first byte must start with 4 or 6)`);
}
