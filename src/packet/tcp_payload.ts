/**
 * `withTcpPayload`: a TCP segment with its data replaced by other bytes, every length and
 * checksum made right for the new size (the building block of payload rewriting).
 * @module
 */
import { PacketError } from '../errors.js';
import { fillChecksums } from './checksum.js';
import { setU16be } from './_bytes.js';
import { parsePacket } from './parse.js';

/**
 * New bytes: `packet`'s IP header (with any IPv4 options or IPv6 extension headers) and TCP
 * header (options kept) followed by `payload`; the IPv4 total length or IPv6 payload length,
 * the IPv4 header checksum and the TCP checksum set for it. Link padding past the IP length is
 * left out. `packet` is not changed. Sequence numbers are left as they are: on a socket with
 * `tcpRewrite` divert keeps the flow consistent; elsewhere that is the caller's work.
 * @throws {PacketError} when `packet` is not a whole, unfragmented TCP segment
 * @throws {RangeError} when the result would exceed the IP length field (65535 bytes)
 * @example
 * ```ts
 * const longer = withTcpPayload(p.packet, new TextEncoder().encode('GET /a-longer-path HTTP/1.1\r\n'));
 * ```
 */
export function withTcpPayload(packet: Uint8Array, payload: Uint8Array): Uint8Array {
  if (!(payload instanceof Uint8Array)) throw new TypeError(`withTcpPayload() takes the payload as a Uint8Array, got ${typeof payload}`);
  const parsed = parsePacket(packet);
  if (parsed.fragment !== undefined && (parsed.fragment.offset !== 0 || parsed.fragment.more)) {
    throw new PacketError('TCP', 'the packet is a fragment: reassemble it first (defragment option) to replace its payload');
  }
  const tcp = parsed.tcp;
  if (tcp === undefined) throw new PacketError('TCP', `the packet carries protocol ${parsed.protocol}, not TCP`);
  const headers = tcp.offset + tcp.hdrLen;
  const v6 = parsed.ipVersion === 6;
  const ipLength = v6 ? headers - 40 + payload.length : headers + payload.length;
  if (ipLength > 65535) {
    throw new RangeError(`A TCP segment with a ${payload.length}-byte payload is too large: its IP ${v6 ? 'payload' : 'total'} length would be ${ipLength} (at most 65535)`);
  }
  const out = new Uint8Array(headers + payload.length);
  out.set(packet.subarray(0, headers));
  out.set(payload, headers);
  setU16be(out, v6 ? 4 : 2, ipLength);
  fillChecksums(out);
  return out;
}
