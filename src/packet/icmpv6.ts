/**
 * A zero-copy view of an ICMPv6 message (RFC 4443 §2.1). Its checksum includes the IPv6
 * pseudo-header (§2.3), so fill it with `fillChecksums` on the whole packet.
 * @module
 */
import { PacketError } from '../errors.js';
import { IcmpHeaderView, icmpFault } from './_icmp_common.js';

/** A view over the ICMPv6 message at `offset` in `bytes`; it runs to the end of `bytes`. */
export class Icmpv6Packet extends IcmpHeaderView {
  /** Whether `bytes` at `offset` hold the 8-byte ICMPv6 header. */
  static checkLen(bytes: Uint8Array, offset = 0): boolean { return icmpFault(bytes, offset) === undefined; }

  /**
   * Wrap `bytes` after checking that the header fits.
   * @throws {PacketError} with layer `"ICMPv6"`
   */
  static checked(bytes: Uint8Array, offset = 0): Icmpv6Packet {
    const fault = icmpFault(bytes, offset);
    if (fault !== undefined) throw new PacketError('ICMPv6', fault);
    return new Icmpv6Packet(bytes, offset);
  }
}
