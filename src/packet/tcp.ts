/**
 * A zero-copy view of a TCP segment (RFC 9293 §3.1) and its options (§3.2).
 *
 * ```
 *  |          Source Port          |       Destination Port        |   0
 *  |                        Sequence Number                        |   4
 *  |                    Acknowledgment Number                      |   8
 *  | Offset|Rsv|N|C|E|U|A|P|R|S|F|            Window               |  12   (N = NS, RFC 3540)
 *  |           Checksum            |         Urgent Pointer        |  16
 *  |                    Options (data offset > 5)                  |  20
 * ```
 * @module
 */
import { PacketError } from '../errors.js';
import { checkOffset, checkUint, offsetFault, setPadded, setU16be, setU32be, u16be, u32be } from './_bytes.js';

/** Minimum TCP header length. */
export const TCP_HEADER_LEN = 20;

/** Flag bits of `TcpPacket.flags` (9 bits: NS is bit 8, FIN bit 0). */
export const TCP_FLAGS = {
  FIN: 0x001, SYN: 0x002, RST: 0x004, PSH: 0x008, ACK: 0x010, URG: 0x020, ECE: 0x040, CWR: 0x080, NS: 0x100,
} as const;

/** TCP option kinds (IANA "TCP Option Kind Numbers"). */
export const TCP_OPTION = {
  EOL: 0, NOP: 1, MSS: 2, WINDOW_SCALE: 3, SACK_PERMITTED: 4, SACK: 5, TIMESTAMP: 8,
} as const;

/** One TCP option: its kind and its data (a live view, without kind and length bytes). */
export interface TcpOption {
  /** The option kind (see {@link TCP_OPTION}). */
  kind: number;
  /** Its data bytes. */
  data: Uint8Array;
}

/** Why `opts` is not a well-formed option list (RFC 9293 §3.2), or `undefined`. */
function optionsFault(opts: Uint8Array): string | undefined {
  for (let i = 0; i < opts.length; ) {
    const kind = opts[i]!;
    if (kind === TCP_OPTION.EOL) return undefined;
    if (kind === TCP_OPTION.NOP) { i++; continue; }
    if (i + 1 >= opts.length) return `option ${kind} at ${i} has no length byte`;
    const len = opts[i + 1]!;
    if (len < 2 || i + len > opts.length) return `option ${kind} at ${i} has bad length ${len}`;
    i += len;
  }
  return undefined;
}

/**
 * Decode an option list (NOPs skipped, stops at EOL). Unknown kinds are kept as they are.
 * @throws {PacketError} with layer `"TCP"` when an option's length is impossible
 */
export function parseTcpOptions(opts: Uint8Array): TcpOption[] {
  const fault = optionsFault(opts);
  if (fault !== undefined) throw new PacketError('TCP', fault);
  const out: TcpOption[] = [];
  for (let i = 0; i < opts.length; ) {
    const kind = opts[i]!;
    if (kind === TCP_OPTION.EOL) break;
    if (kind === TCP_OPTION.NOP) { i++; continue; }
    const len = opts[i + 1]!;
    out.push({ kind, data: opts.subarray(i + 2, i + len) });
    i += len;
  }
  return out;
}

/** Encode options as kind, length, data, zero-padded (EOL) to a multiple of 4 bytes. */
export function encodeTcpOptions(options: readonly TcpOption[]): Uint8Array {
  let n = 0;
  for (const o of options) n += o.kind === TCP_OPTION.NOP || o.kind === TCP_OPTION.EOL ? 1 : 2 + o.data.length;
  const out = new Uint8Array((n + 3) & ~3);
  let i = 0;
  for (const o of options) {
    out[i++] = o.kind;
    if (o.kind === TCP_OPTION.NOP || o.kind === TCP_OPTION.EOL) continue;
    if (o.data.length > 253) throw new RangeError(`Cannot encode TCP option ${o.kind}: data too long`);
    out[i++] = 2 + o.data.length;
    out.set(o.data, i);
    i += o.data.length;
  }
  return out;
}

function tcpFault(b: Uint8Array, o: number): string | undefined {
  const bad = offsetFault(b, o);
  if (bad !== undefined) return bad;
  const avail = b.length - o;
  if (avail < TCP_HEADER_LEN) return `truncated: ${Math.max(avail, 0)} bytes, header needs 20`;
  const dataOffset = b[o + 12]! >> 4;
  if (dataOffset < 5) return `data offset ${dataOffset} is below 5`;
  if (dataOffset * 4 > avail) return `truncated: data offset ${dataOffset * 4} exceeds the ${avail} bytes available`;
  return optionsFault(b.subarray(o + 20, o + dataOffset * 4));
}

/**
 * A view over the TCP segment at `offset` in `bytes`; the segment runs to the end of `bytes`
 * (trim the buffer to the IP payload first). Setting `dataOffset` invalidates `checked()`.
 */
export class TcpPacket {
  /** The underlying buffer (shared, never copied). */
  readonly bytes: Uint8Array;
  /** Where the TCP header starts in `bytes`. */
  readonly offset: number;

  /**
   * Wrap `bytes` without any length check.
   * @throws {RangeError} when `offset` is not an integer in `[0, bytes.length]`
   */
  constructor(bytes: Uint8Array, offset = 0) {
    checkOffset(bytes, offset, 'TcpPacket');
    this.bytes = bytes;
    this.offset = offset;
  }

  /** Whether `bytes` at `offset` hold a whole TCP header with well-formed options. */
  static checkLen(bytes: Uint8Array, offset = 0): boolean { return tcpFault(bytes, offset) === undefined; }

  /**
   * Wrap `bytes` after checking the data offset and the option list.
   * @throws {PacketError} with layer `"TCP"` naming the fault
   */
  static checked(bytes: Uint8Array, offset = 0): TcpPacket {
    const fault = tcpFault(bytes, offset);
    if (fault !== undefined) throw new PacketError('TCP', fault);
    return new TcpPacket(bytes, offset);
  }

  /** Source Port. */
  get srcPort(): number { return u16be(this.bytes, this.offset); }
  set srcPort(v: number) { checkUint(v, 16, 'TCP source port'); setU16be(this.bytes, this.offset, v); }

  /** Destination Port. */
  get dstPort(): number { return u16be(this.bytes, this.offset + 2); }
  set dstPort(v: number) { checkUint(v, 16, 'TCP destination port'); setU16be(this.bytes, this.offset + 2, v); }

  /** Sequence Number. */
  get seqNum(): number { return u32be(this.bytes, this.offset + 4); }
  set seqNum(v: number) { checkUint(v, 32, 'TCP sequence number'); setU32be(this.bytes, this.offset + 4, v); }

  /** Acknowledgment Number (the `ack` member is the ACK flag, as in pydivert). */
  get ackNum(): number { return u32be(this.bytes, this.offset + 8); }
  set ackNum(v: number) { checkUint(v, 32, 'TCP acknowledgment number'); setU32be(this.bytes, this.offset + 8, v); }

  /** Data Offset: header length in 32-bit words. */
  get dataOffset(): number { return this.bytes[this.offset + 12]! >> 4; }
  set dataOffset(v: number) {
    checkUint(v, 4, 'TCP data offset');
    this.bytes[this.offset + 12] = (v << 4) | (this.bytes[this.offset + 12]! & 0x0f);
  }

  /** The 3 reserved bits between Data Offset and the flags (RFC 9293 §3.1: must be zero). */
  get reserved(): number { return (this.bytes[this.offset + 12]! >> 1) & 7; }
  set reserved(v: number) {
    checkUint(v, 3, 'TCP reserved bits');
    this.bytes[this.offset + 12] = (this.bytes[this.offset + 12]! & 0xf1) | (v << 1);
  }

  /** Header length in bytes (`dataOffset * 4`). */
  get hdrLen(): number { return this.dataOffset * 4; }
  set hdrLen(v: number) {
    if (v % 4 !== 0) throw new RangeError(`Cannot set TCP header length: ${v} is not a multiple of 4`);
    this.dataOffset = v / 4;
  }

  /** The 9 flag bits, NS (bit 8) to FIN (bit 0); see `TCP_FLAGS`. Reserved bits are kept. */
  get flags(): number { return u16be(this.bytes, this.offset + 12) & 0x1ff; }
  set flags(v: number) {
    checkUint(v, 9, 'TCP flags');
    setU16be(this.bytes, this.offset + 12, (u16be(this.bytes, this.offset + 12) & 0xfe00) | v);
  }

  #flag(bit: number): boolean { return (this.flags & bit) !== 0; }
  #setFlag(bit: number, on: boolean): void { this.flags = on ? this.flags | bit : this.flags & ~bit; }

  /** NS (ECN nonce, RFC 3540; historic). */
  get ns(): boolean { return this.#flag(TCP_FLAGS.NS); }
  set ns(v: boolean) { this.#setFlag(TCP_FLAGS.NS, v); }
  /** CWR (RFC 3168). */
  get cwr(): boolean { return this.#flag(TCP_FLAGS.CWR); }
  set cwr(v: boolean) { this.#setFlag(TCP_FLAGS.CWR, v); }
  /** ECE (RFC 3168). */
  get ece(): boolean { return this.#flag(TCP_FLAGS.ECE); }
  set ece(v: boolean) { this.#setFlag(TCP_FLAGS.ECE, v); }
  /** URG. */
  get urg(): boolean { return this.#flag(TCP_FLAGS.URG); }
  set urg(v: boolean) { this.#setFlag(TCP_FLAGS.URG, v); }
  /** ACK flag (the number is `ackNum`). */
  get ack(): boolean { return this.#flag(TCP_FLAGS.ACK); }
  set ack(v: boolean) { this.#setFlag(TCP_FLAGS.ACK, v); }
  /** PSH. */
  get psh(): boolean { return this.#flag(TCP_FLAGS.PSH); }
  set psh(v: boolean) { this.#setFlag(TCP_FLAGS.PSH, v); }
  /** RST. */
  get rst(): boolean { return this.#flag(TCP_FLAGS.RST); }
  set rst(v: boolean) { this.#setFlag(TCP_FLAGS.RST, v); }
  /** SYN. */
  get syn(): boolean { return this.#flag(TCP_FLAGS.SYN); }
  set syn(v: boolean) { this.#setFlag(TCP_FLAGS.SYN, v); }
  /** FIN. */
  get fin(): boolean { return this.#flag(TCP_FLAGS.FIN); }
  set fin(v: boolean) { this.#setFlag(TCP_FLAGS.FIN, v); }

  /** Window. */
  get window(): number { return u16be(this.bytes, this.offset + 14); }
  set window(v: number) { checkUint(v, 16, 'TCP window'); setU16be(this.bytes, this.offset + 14, v); }

  /** Checksum field (fill it with `fillChecksums`, which knows the pseudo-header). */
  get checksum(): number { return u16be(this.bytes, this.offset + 16); }
  set checksum(v: number) { checkUint(v, 16, 'TCP checksum'); setU16be(this.bytes, this.offset + 16, v); }

  /** Urgent Pointer. */
  get urgentPtr(): number { return u16be(this.bytes, this.offset + 18); }
  set urgentPtr(v: number) { checkUint(v, 16, 'TCP urgent pointer'); setU16be(this.bytes, this.offset + 18, v); }

  /** Raw options (live view of `[20, hdrLen)`); the setter fills that space, zero-padded. */
  get options(): Uint8Array { return this.bytes.subarray(this.offset + 20, this.offset + this.hdrLen); }
  set options(v: Uint8Array) {
    setPadded(this.bytes, this.offset + 20, Math.max(this.hdrLen - 20, 0), v, 'TCP options');
  }

  /**
   * The decoded options.
   * @throws {PacketError} only on an unchecked view or after the options were mangled
   */
  parseOptions(): TcpOption[] { return parseTcpOptions(this.options); }

  /** Segment data after the header, to the end of `bytes`, as a live view. */
  get payload(): Uint8Array { return this.bytes.subarray(this.offset + Math.max(this.hdrLen, 20)); }
}
