/**
 * What a capture (-w) shows of a diverted packet.
 * @module
 */
import type { DivertPacket } from '../../divert/divert_packet.js';
import { fillChecksums } from '../../packet/checksum.js';

/**
 * The bytes a capture shows: a packet the kernel left with partial checksums (checksum offload,
 * `checksumNotReady`) gets them filled in a copy, as they will be on the wire.
 */
export function captured(p: DivertPacket): Uint8Array {
  if (!p.address.checksumNotReady || p.address.truncated) return p.packet;
  const copy = p.packet.slice();
  fillChecksums(copy);
  return copy;
}
