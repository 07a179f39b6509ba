/**
 * Reads classic libpcap files back: what ./pcap_writer.ts writes, and what tcpdump, dumpcap,
 * tshark and editcap write (`-F pcap`, `-F nsecpcap`). Both byte orders and both timestamp
 * resolutions are told apart by the magic number (draft-ietf-opsawg-pcap §4):
 *
 * ```
 * magic as read little-endian   file byte order   fraction of a second in ts_frac
 * 0xa1b2c3d4                    little-endian     microseconds
 * 0xd4c3b2a1                    big-endian        microseconds
 * 0xa1b23c4d                    little-endian     nanoseconds
 * 0x4d3cb2a1                    big-endian        nanoseconds
 * ```
 * The rest of the 24-byte global header and every 16-byte record header (ts_sec, ts_frac,
 * incl_len, orig_len; see ./pcap_writer.ts) are in the file's byte order. pcapng (0x0a0d0d0a) is
 * refused with a hint. Pure: takes the whole file as bytes; each record's data is a view into them.
 * @module
 */
import { PacketError } from '../errors.js';
import { LINKTYPE_RAW, PCAP_GLOBAL_HEADER_LEN, PCAP_MAGIC_USEC, PCAP_RECORD_HEADER_LEN } from './pcap_writer.js';

/** Magic number of a nanosecond-resolution pcap file. */
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
/**
 * DLT_RAW as most systems number it: older files carry it in place of {@link LINKTYPE_RAW}
 * (libpcap's dlt.h; Wireshark reads it as raw IP).
 */
export const DLT_RAW = 12;
/** DLT_RAW as OpenBSD numbers it, found in files written there. */
export const DLT_RAW_OPENBSD = 14;

/** Whether records of `linktype` are raw IP packets (an IPv4 or IPv6 header first). */
export function isRawIpLinktype(linktype: number): boolean {
  return linktype === LINKTYPE_RAW || linktype === DLT_RAW || linktype === DLT_RAW_OPENBSD;
}
const PCAPNG_MAGIC = 0x0a0d0d0a;

/** The global header, decoded. */
export interface PcapFileHeader {
  /** Byte order of every header field in the file. */
  byteOrder: 'little-endian' | 'big-endian';
  /** True for the nanosecond magic: ts_frac counts nanoseconds, else microseconds. */
  nanoseconds: boolean;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  /** Link type, the low 16 bits of the network field (101 = LINKTYPE_RAW: the data is an IP packet). */
  linktype: number;
}

/** One record; `data` is a view into the file bytes (copy it to keep it past the file). */
export interface PcapRecord {
  /** Seconds since the epoch (ts_sec). */
  seconds: number;
  /** ts_frac: microseconds, or nanoseconds in a nanosecond file. */
  fraction: number;
  /** The timestamp in ms since the epoch (fraction kept; sub-µs digits may round at epoch scale). */
  timeMs: number;
  /** Bytes on the wire (orig_len); `data.length` is incl_len. */
  origLen: number;
  data: Uint8Array;
}

export interface PcapFile {
  header: PcapFileHeader;
  records: PcapRecord[];
}

function fail(reason: string): never {
  throw new PacketError('pcap', reason);
}

/**
 * Parses a whole classic pcap file.
 * @throws {PacketError} with layer `"pcap"` for an unknown magic (pcapng included), a header or
 * record cut short, or a timestamp fraction out of range
 * @example
 * ```ts
 * const { header, records } = parsePcap(readFileSync('out.pcap'));
 * if (header.linktype === LINKTYPE_RAW) for (const r of records) console.log(parsePacket(r.data));
 * ```
 */
export function parsePcap(bytes: Uint8Array): PcapFile {
  if (bytes.length < PCAP_GLOBAL_HEADER_LEN) fail(`truncated: ${bytes.length} bytes, the global header needs 24`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = parseFileHeader(v);
  const le = header.byteOrder === 'little-endian';
  const perSecond = header.nanoseconds ? 1e9 : 1e6;
  const records: PcapRecord[] = [];
  for (let at = PCAP_GLOBAL_HEADER_LEN; at < bytes.length; ) {
    const n = records.length + 1;
    if (bytes.length - at < PCAP_RECORD_HEADER_LEN) fail(`record ${n} at offset ${at}: header cut short (${bytes.length - at} of 16 bytes)`);
    const seconds = v.getUint32(at, le);
    const fraction = v.getUint32(at + 4, le);
    const incl = v.getUint32(at + 8, le);
    const origLen = v.getUint32(at + 12, le);
    if (fraction >= perSecond) fail(`record ${n} at offset ${at}: ts_frac ${fraction} is not below ${perSecond}`);
    const start = at + PCAP_RECORD_HEADER_LEN;
    if (incl > bytes.length - start) fail(`record ${n} at offset ${at}: incl_len ${incl} exceeds the ${bytes.length - start} bytes left`);
    const timeMs = seconds * 1000 + fraction / (perSecond / 1000);
    records.push({ seconds, fraction, timeMs, origLen, data: bytes.subarray(start, start + incl) });
    at = start + incl;
  }
  return { header, records };
}

function parseFileHeader(v: DataView): PcapFileHeader {
  const magic = v.getUint32(0, true);
  let le: boolean;
  let nanoseconds: boolean;
  if (magic === PCAP_MAGIC_USEC || magic === PCAP_MAGIC_NSEC) [le, nanoseconds] = [true, magic === PCAP_MAGIC_NSEC];
  else if (v.getUint32(0, false) === PCAP_MAGIC_USEC || v.getUint32(0, false) === PCAP_MAGIC_NSEC) [le, nanoseconds] = [false, v.getUint32(0, false) === PCAP_MAGIC_NSEC];
  else if (magic === PCAPNG_MAGIC) fail('this is a pcapng file: convert it with "editcap -F pcap in.pcapng out.pcap"');
  else fail(`unknown magic number 0x${magic.toString(16).padStart(8, '0')} (as read little-endian)`);
  return {
    byteOrder: le ? 'little-endian' : 'big-endian',
    nanoseconds,
    versionMajor: v.getUint16(4, le),
    versionMinor: v.getUint16(6, le),
    snaplen: v.getUint32(16, le),
    linktype: v.getUint32(20, le) & 0xffff,
  };
}
