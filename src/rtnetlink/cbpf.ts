/**
 * Classic BPF programs as the bpf classifier carries them (TCA_BPF_OPS), plus the text form
 * `tc … bpf bytecode '…'` reads and `tc filter show` prints ("count,code jt jf k,…", decimal).
 *
 * ```
 * struct sock_filter {        (8 bytes, HOST order)     include/uapi/linux/filter.h
 *   u16 code;                 BPF_LD|BPF_W|BPF_ABS = 0x20, BPF_JMP|BPF_JEQ|BPF_K = 0x15, BPF_RET|BPF_K = 0x06
 *   u8  jt;                   jump offset when true
 *   u8  jf;                   jump offset when false
 *   u32 k;                    operand
 * };
 * ```
 * For cls_bpf a classic program returns 0 for "no match" and anything else (-1 here) for
 * "match"; the filter's actions then run.
 * @module
 */
import { putU16ne, putU32ne, u16ne, u32ne } from '../netlink/bytes.js';
import { PacketError } from '../errors.js';
import { BPF_MAXINSNS, SOCK_FILTER_LEN } from './tc_constants.js';

/** One classic BPF instruction. */
export interface SockFilter {
  /** Opcode (u16): class, size, mode and operation (see {@link BpfCode}). */
  code: number;
  /** Instructions to skip when a jump's condition is true (u8). */
  jt: number;
  /** Instructions to skip when a jump's condition is false (u8). */
  jf: number;
  /** Operand (u32): an offset, a constant or a return value. */
  k: number;
}

/** Instruction codes used here. include/uapi/linux/bpf_common.h */
export const BpfCode = {
  /** A = u32 at absolute offset k (ancillary data when k >= SKF_AD_OFF). */
  BPF_LD_W_ABS: 0x20,
  /** if A == k goto jt else goto jf. */
  BPF_JMP_JEQ_K: 0x15,
  /** return k. */
  BPF_RET_K: 0x06,
} as const;

/** Ancillary loads: `k = SKF_AD_OFF + SKF_AD_*`. include/uapi/linux/filter.h */
export const SKF_AD_OFF = 0xffff_f000;
/** skb->mark. */
export const SKF_AD_MARK = 20;

/**
 * The program "A = skb->mark; return A == mark ? -1 : 0": the filter matches packets carrying
 * exactly `mark` (divert's inbound injection uses it with INJECT_MARK).
 * @example markMatchProgram(0x40d10001).length; // 4
 */
export function markMatchProgram(mark: number): SockFilter[] {
  return [
    { code: BpfCode.BPF_LD_W_ABS, jt: 0, jf: 0, k: (SKF_AD_OFF + SKF_AD_MARK) >>> 0 },
    { code: BpfCode.BPF_JMP_JEQ_K, jt: 0, jf: 1, k: mark >>> 0 },
    { code: BpfCode.BPF_RET_K, jt: 0, jf: 0, k: 0xffff_ffff },
    { code: BpfCode.BPF_RET_K, jt: 0, jf: 0, k: 0 },
  ];
}

/**
 * Writes `ops` as TCA_BPF_OPS bytes (host order) at `off`. It writes what it is given: check the
 * program first with {@link checkSockFilters} (`putBpfFilter` does, before its first byte).
 */
export function emitSockFilters(ops: readonly SockFilter[], buf: Uint8Array, off: number): void {
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const at = off + i * SOCK_FILTER_LEN;
    putU16ne(buf, at, op.code);
    buf[at + 2] = op.jt;
    buf[at + 3] = op.jf;
    putU32ne(buf, at + 4, op.k);
  }
}

/**
 * Reads TCA_BPF_OPS bytes back into instructions.
 * @throws {PacketError} when the length is not a multiple of 8.
 */
export function parseSockFilters(bytes: Uint8Array): SockFilter[] {
  if (bytes.length % SOCK_FILTER_LEN !== 0) {
    throw new PacketError('tc', `TCA_BPF_OPS of ${bytes.length} bytes is not a whole number of instructions`);
  }
  const ops: SockFilter[] = [];
  for (let at = 0; at < bytes.length; at += SOCK_FILTER_LEN) {
    ops.push({ code: u16ne(bytes, at), jt: bytes[at + 2]!, jf: bytes[at + 3]!, k: u32ne(bytes, at + 4) });
  }
  return ops;
}

/** Whether two programs are the same instruction for instruction. */
export function sameProgram(a: readonly SockFilter[], b: readonly SockFilter[]): boolean {
  return a.length === b.length && a.every((x, i) => {
    const y = b[i]!;
    return x.code === y.code && x.jt === y.jt && x.jf === y.jf && x.k >>> 0 === y.k >>> 0;
  });
}

/**
 * Parses tc's bytecode text ("4,32 0 0 4294963220,21 0 1 …": the count, then "code jt jf k").
 * @throws {SyntaxError} when the text is not in that form or the count is wrong.
 * @example parseTcBytecode('1,6 0 0 0'); // [{ code: 6, jt: 0, jf: 0, k: 0 }]
 */
export function parseTcBytecode(text: string): SockFilter[] {
  const [countText = '', ...rest] = text.trim().split(',');
  const count = Number(countText);
  if (!/^\d+$/.test(countText) || count !== rest.length) {
    throw new SyntaxError(`tc bytecode ${JSON.stringify(text)}: the count ${countText} does not match ${rest.length} instructions`);
  }
  const ops = rest.map((insn) => {
    const f = insn.trim().split(/\s+/);
    if (f.length !== 4 || !f.every((x) => /^\d+$/.test(x))) throw new SyntaxError(`tc bytecode: bad instruction ${JSON.stringify(insn)}`);
    return { code: Number(f[0]), jt: Number(f[1]), jf: Number(f[2]), k: Number(f[3]) };
  });
  checkSockFilters(ops);
  return ops;
}

/** Formats `ops` as tc prints them ("count,code jt jf k,…"). */
export function formatTcBytecode(ops: readonly SockFilter[]): string {
  return [String(ops.length), ...ops.map((o) => `${o.code} ${o.jt} ${o.jf} ${o.k >>> 0}`)].join(',');
}

/**
 * Checks a program the way the kernel will: 1..BPF_MAXINSNS instructions, fields in range.
 * @throws {RangeError} otherwise.
 */
export function checkSockFilters(ops: readonly SockFilter[]): void {
  if (ops.length === 0 || ops.length > BPF_MAXINSNS) {
    throw new RangeError(`A classic BPF program has 1 to ${BPF_MAXINSNS} instructions, not ${ops.length}`);
  }
  for (const op of ops) {
    if (!fits(op.code, 0xffff) || !fits(op.jt, 0xff) || !fits(op.jf, 0xff) || !fits(op.k, 0xffff_ffff)) {
      throw new RangeError(`Classic BPF instruction out of range: ${JSON.stringify(op)}`);
    }
  }
}

function fits(v: number, max: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= max;
}
