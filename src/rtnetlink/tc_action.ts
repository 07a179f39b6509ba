/**
 * Filter actions (the TCA_BPF_ACT nest) with the mirred action, as iproute2's tc/m_action.c and
 * tc/m_mirred.c build them and net/sched/act_api.c, act_mirred.c dump them.
 *
 * ```
 * TCA_BPF_ACT                         (no NLA_F_NESTED, as tc sends it)
 *   1                                 action order (1, 2, …), a nest
 *     TCA_ACT_KIND     "mirred"
 *     TCA_ACT_OPTIONS  (NLA_F_NESTED)
 *       TCA_MIRRED_PARMS  struct tc_mirred {          (28 bytes, host order)
 *                           u32 index;   0 = a new action (the kernel picks one)
 *                           u32 capab;
 *                           s32 action;  TC_ACT_STOLEN for redirect, TC_ACT_PIPE for mirror
 *                           s32 refcnt;  s32 bindcnt;   (dumps only)
 *                           s32 eaction; TCA_INGRESS_REDIR = 3, …
 *                           u32 ifindex; the target device
 *                         }
 * dumps add TCA_ACT_STATS, TCA_ACT_IN_HW_COUNT, TCA_MIRRED_TM beside these; they are skipped.
 * ```
 * @module
 */
import { AttrDecoder } from '../netlink/attr_decoder.js';
import { i32ne, putU32ne, u32ne } from '../netlink/bytes.js';
import type { MessageBuilder } from '../netlink/message_builder.js';
import { PacketError } from '../errors.js';
import { MirredEaction, TC_MIRRED_LEN, TcAct, TcaActAttr, TcaMirredAttr } from './tc_constants.js';
import { nestStartPlain } from './tc_msg.js';

/** `struct tc_mirred`. */
export interface MirredParms {
  /** The action's index in the kernel's action table. */
  index: number;
  /** Capabilities (unused by mirred; 0). */
  capab: number;
  /** TC_ACT_* after the action ran. */
  action: number;
  /** References to the action (dumps only). */
  refcnt: number;
  /** Filters the action is bound to (dumps only). */
  bindcnt: number;
  /** MirredEaction: TCA_INGRESS_REDIR, … */
  eaction: number;
  /** The interface packets are redirected or mirrored to. */
  ifindex: number;
}

/** What to build: a mirred action (the only kind divert needs). */
export interface MirredSpec {
  /** The action's kind (TCA_ACT_KIND). */
  kind: 'mirred';
  /** MirredEaction: TCA_EGRESS_REDIR, TCA_EGRESS_MIRROR, TCA_INGRESS_REDIR or TCA_INGRESS_MIRROR. */
  eaction: number;
  /** The interface to redirect or mirror to. */
  ifindex: number;
  /** TC_ACT_*; default TC_ACT_STOLEN for redirects, TC_ACT_PIPE for mirrors (tc's defaults). */
  action?: number | undefined;
}

/** One action read back from a dump. */
export interface TcAction {
  /** Position in the list (the nest's type, from 1). */
  order: number;
  /** TCA_ACT_KIND. */
  kind: string;
  /** TCA_MIRRED_PARMS when the kind is "mirred" and the kernel sent them. */
  mirred: MirredParms | undefined;
}

/**
 * Appends a list of actions as the nest `type` (TCA_BPF_ACT for the bpf classifier). It writes
 * what it is given: check the list first with {@link checkActions} (`putBpfFilter` does, before
 * its first byte).
 */
export function putActions(b: MessageBuilder, type: number, actions: readonly MirredSpec[]): void {
  const list = nestStartPlain(b, type);
  actions.forEach((a, i) => putMirred(b, i + 1, a));
  b.nestEnd(list);
}

/**
 * Checks an action list before anything is written.
 * @throws {RangeError} on an empty list or a target ifindex out of range.
 */
export function checkActions(actions: readonly MirredSpec[]): void {
  if (actions.length === 0) throw new RangeError('An action list needs at least one action');
  for (const a of actions) {
    if (!Number.isInteger(a.ifindex) || a.ifindex <= 0 || a.ifindex > 0x7fff_ffff) throw new RangeError(`mirred target ifindex ${a.ifindex} is invalid`);
  }
}

function putMirred(b: MessageBuilder, order: number, a: MirredSpec): void {
  const redirect = a.eaction === MirredEaction.TCA_EGRESS_REDIR || a.eaction === MirredEaction.TCA_INGRESS_REDIR;
  const action = a.action ?? (redirect ? TcAct.TC_ACT_STOLEN : TcAct.TC_ACT_PIPE);
  const nest = nestStartPlain(b, order);
  b.putAttrString(TcaActAttr.TCA_ACT_KIND, a.kind);
  const opts = b.nestStart(TcaActAttr.TCA_ACT_OPTIONS);
  const off = b.reserveAttr(TcaMirredAttr.TCA_MIRRED_PARMS, TC_MIRRED_LEN);
  // index, capab, refcnt and bindcnt stay 0 (reserveAttr zeroes): a new, unshared action.
  putU32ne(b.buffer, off + 8, action);
  putU32ne(b.buffer, off + 20, a.eaction);
  putU32ne(b.buffer, off + 24, a.ifindex);
  b.nestEnd(opts);
  b.nestEnd(nest);
}

/**
 * Decodes an action list nest (the payload of TCA_BPF_ACT) into its actions, in order.
 * @throws {PacketError} on malformed attributes or a short TCA_MIRRED_PARMS.
 */
export function parseActions(buf: Uint8Array, start: number, end: number): TcAction[] {
  const out: TcAction[] = [];
  const list = new AttrDecoder(buf, start, end);
  const act = new AttrDecoder();
  while (list.next()) {
    const a: TcAction = { order: list.type, kind: '', mirred: undefined };
    list.nestedInto(act);
    let options: [number, number] | undefined;
    while (act.next()) {
      if (act.type === TcaActAttr.TCA_ACT_KIND) a.kind = act.string();
      else if (act.type === TcaActAttr.TCA_ACT_OPTIONS) options = [act.offset, act.offset + act.length];
    }
    if (act.err) throw act.err;
    // The kind may follow the options in principle: decode them once both are known.
    if (a.kind === 'mirred' && options) a.mirred = parseMirredOptions(buf, options[0], options[1]);
    out.push(a);
  }
  if (list.err) throw list.err;
  return out;
}

function parseMirredOptions(buf: Uint8Array, start: number, end: number): MirredParms | undefined {
  const ad = new AttrDecoder(buf, start, end);
  let parms: MirredParms | undefined;
  while (ad.next()) {
    if (ad.type !== TcaMirredAttr.TCA_MIRRED_PARMS) continue;
    if (ad.length < TC_MIRRED_LEN) throw new PacketError('tc', `TCA_MIRRED_PARMS has ${ad.length} bytes, needs ${TC_MIRRED_LEN}`);
    const o = ad.offset;
    parms = {
      index: u32ne(buf, o),
      capab: u32ne(buf, o + 4),
      action: i32ne(buf, o + 8),
      refcnt: i32ne(buf, o + 12),
      bindcnt: i32ne(buf, o + 16),
      eaction: i32ne(buf, o + 20),
      ifindex: u32ne(buf, o + 24),
    };
  }
  if (ad.err) throw ad.err;
  return parms;
}
