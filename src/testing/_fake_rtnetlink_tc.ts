/**
 * The fake kernel's tc: clsact qdiscs and bpf filters (classic programs, mirred actions) per
 * interface, answered with the errnos and extack texts Linux 6.x gives (net/sched/sch_api.c,
 * cls_api.c, cls_bpf.c, act_mirred.c), and dumped as the kernel dumps them: per (prio, protocol)
 * group a header entry (handle 0) then the filters, TCA_CHAIN 0, actions with their index,
 * refcnt 1, bindcnt 1, and TCA_BPF_FLAGS_GEN NOT_IN_HW.
 *
 * Only clsact and bpf exist here; other kinds are refused with EOPNOTSUPP ("not in the fake").
 * @module
 */
import { putU16ne, putU32ne } from '../netlink/bytes.js';
import { NlmFlags } from '../netlink/constants.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import type { MessageIter } from '../netlink/message_iter.js';
import { emitSockFilters, type SockFilter } from '../rtnetlink/cbpf.js';
import type { MirredParms } from '../rtnetlink/tc_action.js';
import { RtmTcType, SOCK_FILTER_LEN, TC_MIRRED_LEN, TcaActAttr, TcaAttr, TcaBpfAttr, TcaClsFlags, TcaMirredAttr, TcHandle } from '../rtnetlink/tc_constants.js';
import { parseFilterMessage } from '../rtnetlink/tc_filter.js';
import { clsactDirection, filterInfo, nestStartPlain, putTcmsg } from '../rtnetlink/tc_msg.js';
import { CLSACT_HANDLE, parseQdiscMessage } from '../rtnetlink/tc_qdisc.js';
import { Errno } from '../_native/errno.js';
import type { FakeNack } from './_fake_netlink.js';


/** Sends a dump: each put writes one message; NLMSG_DONE ends it. */
export type DumpEmitter = (puts: ReadonlyArray<(b: MessageBuilder) => void>, seq: number, portId: number, emit: (d: Uint8Array) => void) => void;

/** A filter the fake holds. */
export interface FakeFilter {
  ifindex: number;
  parent: number;
  prio: number;
  protocol: number;
  handle: number;
  ops: SockFilter[];
  actions: MirredParms[];
}

/** The fake kernel's tc (see the module comment); reach it as `kernel.rtnetlink.tc`. */
export class FakeTc {
  /** Interfaces with a clsact qdisc. */
  readonly clsact = new Set<number>();
  /** Every filter, in the order added. */
  filters: FakeFilter[] = [];
  /** Kinds this "kernel" was built without ("clsact", "bpf", "mirred"): refused with ENOENT and the kernel's text. */
  readonly missing = new Set<string>();
  #hasLink: (index: number) => boolean;
  #emitDump: DumpEmitter;
  #failures = new Map<number, FakeNack[]>();
  #actionIndex = 0;

  /**
   * @param hasLink whether an interface exists.
   * @param emitDump sends a dump's messages in datagrams, ended by NLMSG_DONE.
   */
  constructor(hasLink: (index: number) => boolean, emitDump: DumpEmitter) {
    this.#hasLink = hasLink;
    this.#emitDump = emitDump;
  }

  /** The next request of message type `type` (RtmTcType) is refused with `nack`. */
  failNext(type: number, nack: FakeNack): void {
    this.#failures.set(type, [...(this.#failures.get(type) ?? []), nack]);
  }

  /** The interface is gone: so are its qdisc and filters. */
  dropLink(index: number): void {
    this.clsact.delete(index);
    this.filters = this.filters.filter((f) => f.ifindex !== index);
  }

  /** Answers a tc request, or 'unhandled' for other message types. */
  handle(it: MessageIter, portId: number, emit: (d: Uint8Array) => void): FakeNack | undefined | 'unhandled' {
    const types: number[] = Object.values(RtmTcType);
    if (!types.includes(it.type)) return 'unhandled';
    const scripted = this.#failures.get(it.type)?.shift();
    if (scripted) return scripted;
    switch (it.type) {
      case RtmTcType.RTM_NEWQDISC:
        return this.#newQdisc(it);
      case RtmTcType.RTM_DELQDISC:
        return this.#delQdisc(it);
      case RtmTcType.RTM_GETQDISC:
        return this.#dumpQdiscs(it, portId, emit);
      case RtmTcType.RTM_NEWTFILTER:
        return this.#newFilter(it);
      case RtmTcType.RTM_DELTFILTER:
        return this.#delFilter(it);
      default:
        return this.#dumpFilters(it, portId, emit);
    }
  }

  #newQdisc(it: MessageIter): FakeNack | undefined {
    const q = parseQdiscMessage(it.buffer, it.payloadOffset, it.end);
    if (!this.#hasLink(q.ifindex)) return { errno: Errno.ENODEV, message: 'Cannot find specified netdevice' };
    if (this.missing.has(q.kind)) return { errno: Errno.ENOENT, message: 'Specified qdisc kind is unknown' };
    if (q.kind !== 'clsact' || q.parent !== TcHandle.TC_H_CLSACT) return { errno: Errno.EOPNOTSUPP, message: `qdisc ${q.kind} is not in the fake` };
    if (this.clsact.has(q.ifindex)) {
      return (it.flags & NlmFlags.NLM_F_EXCL) !== 0 ? { errno: Errno.EEXIST, message: 'Exclusivity flag on, cannot modify' } : undefined;
    }
    if ((it.flags & NlmFlags.NLM_F_CREATE) === 0) return { errno: Errno.ENOENT, message: 'Qdisc not found. To create specify NLM_F_CREATE flag' };
    this.clsact.add(q.ifindex);
    return undefined;
  }

  #delQdisc(it: MessageIter): FakeNack | undefined {
    const q = parseQdiscMessage(it.buffer, it.payloadOffset, it.end);
    if (!this.#hasLink(q.ifindex)) return { errno: Errno.ENODEV, message: 'Cannot find specified netdevice' };
    if (!this.clsact.has(q.ifindex) || (q.handle !== 0 && q.handle !== CLSACT_HANDLE)) return { errno: Errno.EINVAL, message: 'Invalid handle' };
    this.dropLink(q.ifindex);
    return undefined;
  }

  /** Like the kernel without strict checking: every interface's qdiscs, whatever tcm_ifindex says. */
  #dumpQdiscs(it: MessageIter, portId: number, emit: (d: Uint8Array) => void): undefined {
    const puts = [...this.clsact].sort((a, b) => a - b).map((ifindex) => (b: MessageBuilder) => {
      b.begin(RtmTcType.RTM_NEWQDISC, NlmFlags.NLM_F_MULTI, it.seq, portId);
      putTcmsg(b, { family: 0, ifindex, handle: CLSACT_HANDLE, parent: TcHandle.TC_H_CLSACT, info: 1 });
      b.putAttrString(TcaAttr.TCA_KIND, 'clsact');
      b.putAttrEmpty(TcaAttr.TCA_OPTIONS);
      b.end();
    });
    this.#emitDump(puts, it.seq, portId, emit);
    return undefined;
  }

  #newFilter(it: MessageIter): FakeNack | undefined {
    const f = parseFilterMessage(it.buffer, it.payloadOffset, it.end);
    if (!this.#hasLink(f.ifindex)) return { errno: Errno.ENODEV, message: 'Cannot find specified netdevice' };
    if (!this.clsact.has(f.ifindex)) return { errno: Errno.EINVAL, message: "Parent Qdisc doesn't exists" };
    if (clsactDirection(f.parent) === undefined) return { errno: Errno.EINVAL, message: 'Specified class not found' };
    if (this.missing.has(f.kind)) return { errno: Errno.ENOENT, message: 'TC classifier not found' };
    if (f.kind !== 'bpf') return { errno: Errno.EOPNOTSUPP, message: `classifier ${f.kind} is not in the fake` };
    const ops = f.bpf?.ops;
    if (!ops) return { errno: Errno.EINVAL, message: 'TCA_BPF_OPS missing (eBPF is not in the fake)' };
    const actions: MirredParms[] = [];
    for (const a of f.bpf?.actions ?? []) {
      if (this.missing.has(a.kind)) return { errno: Errno.ENOENT, message: 'Failed to load TC action module' };
      if (a.kind !== 'mirred' || !a.mirred) return { errno: Errno.EOPNOTSUPP, message: `action ${a.kind} is not in the fake` };
      if (!this.#hasLink(a.mirred.ifindex)) return { errno: Errno.ENODEV, message: 'Specified device does not exist' };
      actions.push({ ...a.mirred, index: ++this.#actionIndex, refcnt: 1, bindcnt: 1 });
    }
    const same = (x: FakeFilter): boolean => x.ifindex === f.ifindex && x.parent === f.parent && x.prio === f.prio;
    const existing = this.filters.find((x) => same(x) && x.handle === f.handle);
    if (existing && (it.flags & NlmFlags.NLM_F_EXCL) !== 0) return { errno: Errno.EEXIST, message: 'Filter already exists' };
    if (this.filters.some((x) => same(x) && x.protocol !== f.protocol)) return { errno: Errno.EINVAL, message: 'Filter with specified priority/protocol not found' };
    const handle = f.handle !== 0 ? f.handle : Math.max(0, ...this.filters.filter(same).map((x) => x.handle)) + 1;
    const next: FakeFilter = { ifindex: f.ifindex, parent: f.parent, prio: f.prio, protocol: f.protocol, handle, ops, actions };
    this.filters = existing ? this.filters.map((x) => (x === existing ? next : x)) : [...this.filters, next];
    return undefined;
  }

  #delFilter(it: MessageIter): FakeNack | undefined {
    const f = parseFilterMessage(it.buffer, it.payloadOffset, it.end);
    if (!this.#hasLink(f.ifindex)) return { errno: Errno.ENODEV, message: 'Cannot find specified netdevice' };
    if (!this.clsact.has(f.ifindex)) return { errno: Errno.EINVAL, message: "Parent Qdisc doesn't exists" };
    const group = this.filters.filter((x) => x.ifindex === f.ifindex && x.parent === f.parent && x.prio === f.prio);
    if (group.length === 0) return { errno: Errno.ENOENT, message: 'Cannot find specified filter chain' };
    if (f.kind !== '' && f.kind !== 'bpf') return { errno: Errno.EINVAL, message: 'Specified filter kind does not match existing one' };
    // Handle 0 deletes the whole (prio, protocol) group, as the kernel does.
    const gone = f.handle === 0 ? group : group.filter((x) => x.handle === f.handle);
    if (gone.length === 0) return { errno: Errno.ENOENT, message: 'Specified filter handle not found' };
    this.filters = this.filters.filter((x) => !gone.includes(x));
    return undefined;
  }

  /** One hook of one interface; empty (no error) without a clsact, as the kernel answers. */
  #dumpFilters(it: MessageIter, portId: number, emit: (d: Uint8Array) => void): undefined {
    const want = parseFilterMessage(it.buffer, it.payloadOffset, it.end);
    const on = this.filters.filter((x) => x.ifindex === want.ifindex && x.parent === want.parent).sort((a, b) => a.prio - b.prio);
    const puts: Array<(b: MessageBuilder) => void> = [];
    for (const prio of new Set(on.map((x) => x.prio))) {
      const group = on.filter((x) => x.prio === prio);
      puts.push((b) => putFilter(b, it.seq, portId, group[0]!, true));
      for (const x of group) puts.push((b) => putFilter(b, it.seq, portId, x, false));
    }
    this.#emitDump(puts, it.seq, portId, emit);
    return undefined;
  }
}

/** A filter (or its group's header entry) as cls_api.c + cls_bpf.c dump it. */
function putFilter(b: MessageBuilder, seq: number, portId: number, f: FakeFilter, header: boolean): void {
  b.begin(RtmTcType.RTM_NEWTFILTER, NlmFlags.NLM_F_MULTI, seq, portId);
  putTcmsg(b, { family: 0, ifindex: f.ifindex, handle: header ? 0 : f.handle, parent: f.parent, info: filterInfo(f.prio, f.protocol) });
  b.putAttrString(TcaAttr.TCA_KIND, 'bpf');
  b.putAttrU32ne(TcaAttr.TCA_CHAIN, 0);
  if (!header) {
    const opts = nestStartPlain(b, TcaAttr.TCA_OPTIONS);
    const lenAt = b.reserveAttr(TcaBpfAttr.TCA_BPF_OPS_LEN, 2);
    putU16ne(b.buffer, lenAt, f.ops.length);
    const opsAt = b.reserveAttr(TcaBpfAttr.TCA_BPF_OPS, f.ops.length * SOCK_FILTER_LEN);
    emitSockFilters(f.ops, b.buffer, opsAt);
    if (f.actions.length > 0) {
      const list = nestStartPlain(b, TcaBpfAttr.TCA_BPF_ACT);
      f.actions.forEach((a, i) => {
        const nest = nestStartPlain(b, i + 1);
        b.putAttrString(TcaActAttr.TCA_ACT_KIND, 'mirred');
        const o = nestStartPlain(b, TcaActAttr.TCA_ACT_OPTIONS);
        const p = b.reserveAttr(TcaMirredAttr.TCA_MIRRED_PARMS, TC_MIRRED_LEN);
        [a.index, a.capab, a.action, a.refcnt, a.bindcnt, a.eaction, a.ifindex].forEach((v, k) => putU32ne(b.buffer, p + 4 * k, v));
        b.nestEnd(o);
        b.nestEnd(nest);
      });
      b.nestEnd(list);
    }
    b.putAttrU32ne(TcaBpfAttr.TCA_BPF_FLAGS_GEN, TcaClsFlags.TCA_CLS_FLAGS_NOT_IN_HW);
    b.nestEnd(opts);
  }
  b.end();
}
