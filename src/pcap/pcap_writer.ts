/**
 * Classic libpcap files (microsecond timestamps) of raw IP packets: link type
 * LINKTYPE_RAW (101), so IPv4 and IPv6 share one file and tcpdump/tshark/Wireshark read it.
 *
 * File layout (all fields little-endian here; readers detect the order from the magic):
 *
 * ```
 * global header, 24 bytes              record header, 16 bytes, then incl_len bytes of packet
 *  0  u32 magic 0xa1b2c3d4 (µs)         0  u32 ts_sec
 *  4  u16 version_major 2               4  u32 ts_usec
 *  6  u16 version_minor 4               8  u32 incl_len (bytes stored, <= snaplen)
 *  8  i32 thiszone 0                   12  u32 orig_len (bytes on the wire)
 * 12  u32 sigfigs 0
 * 16  u32 snaplen
 * 20  u32 network (101 = LINKTYPE_RAW)
 * ```
 * Pure: encodes bytes and hands them to a `write` callback; the caller owns the file.
 * @module
 */

/** LINKTYPE_RAW: the packet begins with an IPv4 or IPv6 header (tcpdump.org/linktypes.html). */
export const LINKTYPE_RAW = 101;
/** Magic number of a microsecond-resolution pcap file. */
export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_GLOBAL_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;
const DEFAULT_SNAPLEN = 65535;

/**
 * The 24-byte global header.
 * @example encodePcapHeader().length // 24
 */
export function encodePcapHeader(snaplen = DEFAULT_SNAPLEN, linktype = LINKTYPE_RAW): Uint8Array {
  const out = new Uint8Array(PCAP_GLOBAL_HEADER_LEN);
  const v = new DataView(out.buffer);
  v.setUint32(0, PCAP_MAGIC_USEC, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setInt32(8, 0, true);
  v.setUint32(12, 0, true);
  v.setUint32(16, snaplen, true);
  v.setUint32(20, linktype, true);
  return out;
}

/**
 * One record: header plus the packet bytes (cut to `snaplen`). `timeMs` is milliseconds since
 * the epoch and may carry a fraction (microseconds are kept).
 * @throws {RangeError} for a negative or non-finite time.
 */
export function encodePcapRecord(packet: Uint8Array, timeMs: number, snaplen = DEFAULT_SNAPLEN, origLen = packet.length): Uint8Array {
  if (!Number.isFinite(timeMs) || timeMs < 0) throw new RangeError(`pcap timestamp must be a time >= 0 in ms, got ${String(timeMs)}`);
  const incl = Math.min(packet.length, snaplen);
  const out = new Uint8Array(PCAP_RECORD_HEADER_LEN + incl);
  const v = new DataView(out.buffer);
  const totalUsec = Math.round(timeMs * 1000);
  v.setUint32(0, Math.floor(totalUsec / 1_000_000), true);
  v.setUint32(4, totalUsec % 1_000_000, true);
  v.setUint32(8, incl, true);
  v.setUint32(12, Math.max(origLen, incl), true);
  out.set(packet.subarray(0, incl), PCAP_RECORD_HEADER_LEN);
  return out;
}

/** Writes a pcap stream through `write`: the global header at construction, then one record per packet. */
export class PcapWriter {
  readonly snaplen: number;
  #write: (chunk: Uint8Array) => void;
  #count = 0;

  constructor(write: (chunk: Uint8Array) => void, options: { snaplen?: number } = {}) {
    this.snaplen = options.snaplen ?? DEFAULT_SNAPLEN;
    if (!Number.isInteger(this.snaplen) || this.snaplen < 1) throw new RangeError(`snaplen must be a positive integer, got ${String(this.snaplen)}`);
    this.#write = write;
    write(encodePcapHeader(this.snaplen));
  }

  /** Packets written so far. */
  get count(): number {
    return this.#count;
  }

  /** Appends one raw IP packet taken at `timeMs` (ms since the epoch). */
  writePacket(packet: Uint8Array, timeMs: number, origLen = packet.length): void {
    this.#write(encodePcapRecord(packet, timeMs, this.snaplen, origLen));
    this.#count++;
  }
}
