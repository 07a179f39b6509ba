/**
 * A zero-copy view of an ICMP message (RFC 792). Its checksum covers the message only, so the
 * view can verify and fill it by itself.
 * @module
 */
import { PacketError } from '../errors.js';
import { setU16be } from './_bytes.js';
import { IcmpHeaderView, icmpFault } from './_icmp_common.js';
import { foldChecksum, internetChecksum, sumBytes } from './checksum.js';

/** A view over the ICMP message at `offset` in `bytes`; it runs to the end of `bytes`. */
export class IcmpPacket extends IcmpHeaderView {
  /** Whether `bytes` at `offset` hold the 8-byte ICMP header. */
  static checkLen(bytes: Uint8Array, offset = 0): boolean { return icmpFault(bytes, offset) === undefined; }

  /**
   * Wrap `bytes` after checking that the header fits.
   * @throws {PacketError} with layer `"ICMP"`
   */
  static checked(bytes: Uint8Array, offset = 0): IcmpPacket {
    const fault = icmpFault(bytes, offset);
    if (fault !== undefined) throw new PacketError('ICMP', fault);
    return new IcmpPacket(bytes, offset);
  }

  /** Whether the checksum over the whole message is correct (RFC 792). */
  verifyChecksum(): boolean { return foldChecksum(sumBytes(this.bytes, this.offset)) === 0xffff; }

  /** Compute and write the checksum over the whole message. */
  fillChecksum(): void {
    setU16be(this.bytes, this.offset + 2, 0);
    setU16be(this.bytes, this.offset + 2, internetChecksum(this.bytes, this.offset));
  }
}
