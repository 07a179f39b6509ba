/**
 * tc filters over rtnetlink: the bpf classifier with a classic program and actions
 * (RTM_NEWTFILTER), delete by handle and priority (RTM_DELTFILTER), and the per-hook dump
 * (RTM_GETTFILTER) with its decoder. The layout is iproute2's tc/tc_filter.c + tc/f_bpf.c, and
 * the builders produce exactly what tc sends (golden vectors in ./testdata/tc_requests.ts).
 *
 * ```
 * RTM_NEWTFILTER  NLM_F_REQUEST|NLM_F_ACK|NLM_F_CREATE (tc "replace"; "add" also sets NLM_F_EXCL)
 *   tcmsg { AF_UNSPEC, ifindex, handle, parent ffff:fff3 (egress), info prio<<16 | htons(proto) }
 *   TCA_KIND     "bpf"
 *   TCA_OPTIONS  (no NLA_F_NESTED)
 *     TCA_BPF_ACT      actions (./tc_action.ts)
 *     TCA_BPF_OPS_LEN  u16 instruction count
 *     TCA_BPF_OPS      struct sock_filter[count] (./cbpf.ts)
 *     TCA_BPF_FLAGS    u32, only when flags are given
 * ```
 * A dump lists, per (prio, protocol), a header entry (handle 0, TCA_KIND and TCA_CHAIN only)
 * and then one entry per filter with its options; {@link TcFilter.bpf} tells them apart.
 * @module
 */
import { AttrDecoder } from '../netlink/attr_decoder.js';
import { putU16ne, putU32ne } from '../netlink/bytes.js';
import { NlmFlags } from '../netlink/constants.js';
import type { MessageBuilder } from '../netlink/message_builder.js';
import { checkSockFilters, emitSockFilters, parseSockFilters, type SockFilter } from './cbpf.js';
import { checkActions, parseActions, putActions, type MirredSpec, type TcAction } from './tc_action.js';
import { ETH_P_ALL, RtmTcType, SOCK_FILTER_LEN, TCMSG_LEN, TcaAttr, TcaBpfAttr } from './tc_constants.js';
import { clsactParent, filterInfo, nestStartPlain, parseFilterInfo, parseTcmsg, putTcmsg, type TcDirection } from './tc_msg.js';

/** Which filter: the key the kernel finds it by on one hook. */
export interface FilterKey {
  /** Interface index the filter is on. */
  ifindex: number;
  /** Which clsact hook: ingress or egress. */
  direction: TcDirection;
  /** Priority (tc's "pref"/"prio"), 1..65535. */
  prio: number;
  /** ETH_P_* (host value); default ETH_P_ALL. */
  protocol?: number | undefined;
  /** Filter handle (divert uses the owner's pid). */
  handle: number;
}

/** A bpf filter to install with a classic program and its actions. */
export interface BpfFilterSpec extends FilterKey {
  /** The classic program (1 to BPF_MAXINSNS instructions). */
  ops: readonly SockFilter[];
  /** Actions run when the program matches (TCA_BPF_ACT); may be empty. */
  actions: readonly MirredSpec[];
  /** TCA_BPF_FLAGS; omitted when undefined (classic programs need none). */
  flags?: number | undefined;
}

/** bpf classifier options read back from a dump. */
export interface BpfOptions {
  /** The classic program; undefined for an eBPF program (TCA_BPF_FD/ID instead). */
  ops: SockFilter[] | undefined;
  /** TCA_BPF_FLAGS (0 when absent). */
  flags: number;
  /** TCA_BPF_FLAGS_GEN (0 when absent; the kernel reports TCA_CLS_FLAGS_NOT_IN_HW). */
  flagsGen: number;
  /** TCA_BPF_CLASSID (0 when absent). */
  classid: number;
  /** TCA_BPF_NAME (eBPF programs). */
  name: string | undefined;
  /** The filter's actions (TCA_BPF_ACT), in order; empty when it has none. */
  actions: TcAction[];
}

/** One entry of a filter dump (or a filter notification). */
export interface TcFilter {
  /** `tcm_ifindex`: the interface the filter is on. */
  ifindex: number;
  /** `tcm_parent`: the hook (see `clsactDirection()`). */
  parent: number;
  /** 0 for the header entry of a (prio, protocol) group. */
  handle: number;
  /** Priority (tc's "pref"), from `tcm_info`. */
  prio: number;
  /** ETH_P_* (host value). */
  protocol: number;
  /** TCA_KIND ("bpf", "u32", "flower", …). */
  kind: string;
  /** TCA_CHAIN; undefined when the kernel sent none. */
  chain: number | undefined;
  /** The bpf options when `kind` is "bpf" and the entry carries options, else undefined. */
  bpf: BpfOptions | undefined;
}

/**
 * Appends RTM_NEWTFILTER for a bpf filter. Without `exclusive` an existing filter with the same
 * key is replaced (tc "replace"); with it the kernel answers EEXIST (tc "add").
 * @throws {RangeError} on a prio/protocol/handle out of range or an invalid program.
 * @example
 * ```ts
 * putBpfFilter(b, seq, { ifindex: 3, direction: 'egress', prio: 49152, handle: process.pid,
 *   ops: markMatchProgram(mark), actions: [{ kind: 'mirred', eaction: MirredEaction.TCA_INGRESS_REDIR, ifindex: 3 }] });
 * ```
 */
export function putBpfFilter(b: MessageBuilder, seq: number, spec: BpfFilterSpec, exclusive = false): MessageBuilder {
  // Everything is checked before the first byte, so a refusal leaves the builder as it was.
  checkKey(spec);
  checkSockFilters(spec.ops);
  if (spec.actions.length > 0) checkActions(spec.actions);
  const f = NlmFlags;
  b.begin(RtmTcType.RTM_NEWTFILTER, f.NLM_F_REQUEST | f.NLM_F_ACK | f.NLM_F_CREATE | (exclusive ? f.NLM_F_EXCL : 0), seq);
  putTcmsg(b, keyTcmsg(spec));
  b.putAttrString(TcaAttr.TCA_KIND, 'bpf');
  const opts = nestStartPlain(b, TcaAttr.TCA_OPTIONS);
  if (spec.actions.length > 0) putActions(b, TcaBpfAttr.TCA_BPF_ACT, spec.actions);
  const lenAt = b.reserveAttr(TcaBpfAttr.TCA_BPF_OPS_LEN, 2); // reserve first: it may replace b.buffer
  putU16ne(b.buffer, lenAt, spec.ops.length);
  const at = b.reserveAttr(TcaBpfAttr.TCA_BPF_OPS, spec.ops.length * SOCK_FILTER_LEN);
  emitSockFilters(spec.ops, b.buffer, at);
  if (spec.flags !== undefined) {
    const flagsAt = b.reserveAttr(TcaBpfAttr.TCA_BPF_FLAGS, 4);
    putU32ne(b.buffer, flagsAt, spec.flags);
  }
  b.nestEnd(opts);
  b.end();
  return b;
}

/**
 * Appends RTM_DELTFILTER for one filter. `kind` is sent as tc does ("bpf"); the kernel then
 * refuses (EINVAL) to delete a filter of another kind with that key.
 */
export function putFilterDelete(b: MessageBuilder, seq: number, key: FilterKey, kind: string | undefined = 'bpf'): MessageBuilder {
  checkKey(key);
  b.begin(RtmTcType.RTM_DELTFILTER, NlmFlags.NLM_F_REQUEST | NlmFlags.NLM_F_ACK, seq);
  putTcmsg(b, keyTcmsg(key));
  if (kind !== undefined) b.putAttrString(TcaAttr.TCA_KIND, kind);
  b.end();
  return b;
}

/** Appends an RTM_GETTFILTER dump request for the filters on one clsact hook of `ifindex`. */
export function putFilterDump(b: MessageBuilder, seq: number, ifindex: number, direction: TcDirection): MessageBuilder {
  b.begin(RtmTcType.RTM_GETTFILTER, NlmFlags.NLM_F_REQUEST | NlmFlags.NLM_F_DUMP, seq);
  putTcmsg(b, { family: 0, ifindex, handle: 0, parent: clsactParent(direction), info: 0 });
  b.end();
  return b;
}

/**
 * Decodes an RTM_NEWTFILTER / RTM_DELTFILTER payload (arguments as `parseLinkMessage`).
 * @throws {PacketError} on a short header or malformed attributes.
 */
export function parseFilterMessage(buf: Uint8Array, payloadOffset: number, end: number): TcFilter {
  const m = parseTcmsg(buf, payloadOffset, end);
  const { prio, protocol } = parseFilterInfo(m.info);
  const out: TcFilter = { ifindex: m.ifindex, parent: m.parent, handle: m.handle, prio, protocol, kind: '', chain: undefined, bpf: undefined };
  let options: [number, number] | undefined;
  const ad = new AttrDecoder(buf, payloadOffset + TCMSG_LEN, end);
  while (ad.next()) {
    if (ad.type === TcaAttr.TCA_KIND) out.kind = ad.string();
    else if (ad.type === TcaAttr.TCA_CHAIN) out.chain = ad.u32ne();
    else if (ad.type === TcaAttr.TCA_OPTIONS) options = [ad.offset, ad.offset + ad.length];
  }
  if (ad.err) throw ad.err;
  if (out.kind === 'bpf' && options) out.bpf = parseBpfOptions(buf, options[0], options[1]);
  return out;
}

function parseBpfOptions(buf: Uint8Array, start: number, end: number): BpfOptions {
  const o: BpfOptions = { ops: undefined, flags: 0, flagsGen: 0, classid: 0, name: undefined, actions: [] };
  const ad = new AttrDecoder(buf, start, end);
  while (ad.next()) {
    switch (ad.type) {
      case TcaBpfAttr.TCA_BPF_OPS:
        o.ops = parseSockFilters(ad.bytes());
        break;
      case TcaBpfAttr.TCA_BPF_FLAGS:
        o.flags = ad.u32ne();
        break;
      case TcaBpfAttr.TCA_BPF_FLAGS_GEN:
        o.flagsGen = ad.u32ne();
        break;
      case TcaBpfAttr.TCA_BPF_CLASSID:
        o.classid = ad.u32ne();
        break;
      case TcaBpfAttr.TCA_BPF_NAME:
        o.name = ad.string();
        break;
      case TcaBpfAttr.TCA_BPF_ACT:
        o.actions = parseActions(buf, ad.offset, ad.offset + ad.length);
        break;
    }
  }
  if (ad.err) throw ad.err;
  return o;
}

function keyTcmsg(key: FilterKey): { family: number; ifindex: number; handle: number; parent: number; info: number } {
  return { family: 0, ifindex: key.ifindex, handle: key.handle >>> 0, parent: clsactParent(key.direction), info: filterInfo(key.prio, key.protocol ?? ETH_P_ALL) };
}

function checkKey(key: FilterKey): void {
  if (!Number.isInteger(key.ifindex) || key.ifindex <= 0) throw new RangeError(`tc filter ifindex ${key.ifindex} is invalid`);
  if (!Number.isInteger(key.prio) || key.prio < 1 || key.prio > 0xffff) throw new RangeError(`tc filter prio ${key.prio} must be 1..65535`);
  if (!Number.isInteger(key.handle) || key.handle < 0 || key.handle > 0xffff_ffff) throw new RangeError(`tc filter handle ${key.handle} must be a u32`);
}
