/**
 * The fake kernel's nf_tables (NETLINK_NETFILTER, subsystem NFNL_SUBSYS_NFTABLES): batches
 * applied all or nothing, echoes, dry runs, dumps and GETGEN, answered as Linux 6.18 answers.
 *
 * ```
 * batch committed:  [echoes…] [NEWGEN]  then one datagram per ACK, in message order
 * batch refused:    one datagram per message: NACK (errno, extack offset) or ACK — even the
 *                   ACKs of messages that were fine; nothing applied
 * dry run (no END): validated like a commit, then aborted: ACKs and NACKs only
 * dump:             NEW* messages (NLM_F_MULTI), a few per datagram, then NLMSG_DONE
 * ```
 * Owner tables (NFT_TABLE_F_OWNER) go when their socket closes (`release`); changes from other
 * sockets get EPERM. The native `queue` expression is missing (ENOENT) unless `queueAvailable`.
 * State is kept per network namespace path (sockets opened without one share the host's).
 * @module
 */
import { Errno } from '../_native/errno.js';
import { u16be } from '../netlink/bytes.js';
import { NlmFlags, Nfnetlink } from '../netlink/constants.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import { MessageIter } from '../netlink/message_iter.js';
import type { Chain } from '../nftables/chain.js';
import { NFNL_BATCH, NFNL_SUBSYS_NFTABLES, NFT_MSG } from '../nftables/constants.js';
import type { Rule } from '../nftables/rule.js';
import type { NftSet, SetElement } from '../nftables/set.js';
import type { Table } from '../nftables/table.js';
import { emitDump, putAck, take, type AckOptions, type FakeNack } from './_fake_netlink.js';
import { applyMessage, type ApplyContext, type Outcome } from './_fake_nftables_apply.js';
import {
  echoFlags, offsetOfPath, putChainMsg, putElementsMsg, putGenMsg, putRuleMsg, putSetMsg, putTableMsg, scanAttrs, splitMessages, type ParsedMessage,
} from './_fake_nftables_msg.js';
import { chainUse, newNetnsState, ruleView, tableView, type FakeTable, type NetnsState } from './_fake_nftables_state.js';


/** A batch the fake received. */
export interface BatchRecord {
  portId: number;
  /** NFT_MSG_* of each message (BATCH_BEGIN/END left out). */
  ops: number[];
  dryRun: boolean;
  committed: boolean;
}

/**
 * The fake kernel's nf_tables (see the module comment); reach it as {@link FakeKernel.nftables}. Every method
 * takes the namespace path (null: the caller's own).
 */
export class FakeNftables {
  /** Whether the `queue` expression exists (CONFIG_NFT_QUEUE); off, as on the reference machine. */
  queueAvailable = false;
  /** comm reported in NEWGEN. */
  procName = 'node';
  /** Dump entries per datagram (the last one also carries NLMSG_DONE). */
  perDatagram = 3;
  /** Every batch received, in order. */
  readonly batches: BatchRecord[] = [];
  #ns = new Map<string, NetnsState>();
  #refusals: Array<{ msg: number; nack: FakeNack }> = [];

  // ── observation ──────────────────────────────────────────────────────────────────────────

  /** Tables as a dump shows them. */
  tables(netns: string | null = null): Table[] {
    return this.#state(netns).tables.map(tableView);
  }

  /** Chains of `table` (any family unless given). */
  chains(table: string, family?: number, netns: string | null = null): Chain[] {
    return this.#table(table, family, netns)?.chains.map((c) => c.chain) ?? [];
  }

  /** Rules of `table` (of `chain` when given) as a dump shows them, handles and counters included. */
  rules(table: string, chain?: string, family?: number, netns: string | null = null): Rule[] {
    const t = this.#table(table, family, netns);
    if (!t) return [];
    return t.chains.filter((c) => chain === undefined || c.chain.name === chain).flatMap((c) => c.rules.map((r) => ruleView(t, c, r, true)));
  }

  /** Sets of `table` (any family unless given), as added. */
  sets(table: string, family?: number, netns: string | null = null): NftSet[] {
    return this.#table(table, family, netns)?.sets.map((s) => s.set) ?? [];
  }

  /** Elements of `set` in `table` (any family unless given); empty when there is no such set. */
  elements(table: string, set: string, family?: number, netns: string | null = null): SetElement[] {
    return [...(this.#table(table, family, netns)?.sets.find((s) => s.set.name === set)?.elements.values() ?? [])];
  }

  /** The ruleset generation (+1 per committed batch). */
  generation(netns: string | null = null): number {
    return this.#state(netns).gen;
  }

  // ── scripting ────────────────────────────────────────────────────────────────────────────

  /** Traffic: adds to the first counter of rule `handle` in `table`. */
  count(table: string, handle: number, packets: number, bytes: number, netns: string | null = null): void {
    for (const c of this.#table(table, undefined, netns)?.chains ?? []) {
      const e = c.rules.find((r) => r.handle === handle)?.exprs.find((x) => x.type === 'counter');
      if (e?.type === 'counter') [e.packets, e.bytes] = [(e.packets ?? 0) + packets, (e.bytes ?? 0) + bytes];
    }
  }

  /** The next batch message of type `msg` (NFT_MSG_*) is refused with `nack` (offset in bytes, message). */
  refuseNext(msg: number, nack: FakeNack): void {
    this.#refusals.push({ msg, nack });
  }

  // ── kernel side ──────────────────────────────────────────────────────────────────────────

  /** NETLINK_URELEASE: the socket `portId` closed; the tables it owns go with it. */
  release(portId: number): void {
    for (const ns of this.#ns.values()) ns.tables = ns.tables.filter((t) => t.owner !== portId);
  }

  /** @internal The kernel side (FakeKernel): handles a datagram that starts with NFNL_MSG_BATCH_BEGIN. */
  batch(datagram: Uint8Array, portId: number, netns: string | null, opts: AckOptions, emit: (d: Uint8Array) => void): void {
    const [begin, ...rest] = splitMessages(datagram);
    if (!begin) return;
    const ns = this.#state(netns);
    const endAt = rest.findIndex((m) => m.type === Nfnetlink.NFNL_MSG_BATCH_END);
    const body = endAt < 0 ? rest : rest.slice(0, endAt);
    const genId = scanAttrs(begin.bytes).u32(NFNL_BATCH.NFNL_BATCH_GENID);
    if (begin.bytes.length < 20 || u16be(begin.bytes, 18) !== NFNL_SUBSYS_NFTABLES) return this.#nackBegin(begin, portId, opts, Errno.EINVAL, emit);
    // nf_tables_valid_genid: 0 means "no check".
    if (genId !== undefined && genId !== 0 && genId !== ns.gen) return this.#nackBegin(begin, portId, opts, Errno.ERESTART, emit);
    const tx: NetnsState = structuredClone(ns);
    const ctx: ApplyContext = {
      ns: tx, portId, queueAvailable: this.queueAvailable, setIds: new Map(), chainIds: new Map(),
      echoOf: (m, kind, t, name, handle) => this.#echo(m, kind, t, portId, name, handle),
    };
    const outcomes = body.map((m) => this.#apply(m, ctx));
    const commit = endAt >= 0 && outcomes.every((o) => !('errno' in o));
    this.batches.push({ portId, ops: body.map((m) => m.msg), dryRun: endAt < 0, committed: commit });
    if (commit) {
      tx.gen++;
      tx.lastPid = process.pid;
      this.#ns.set(netns ?? '', tx);
      this.#emitEchoes(body, outcomes, tx, portId, emit);
    }
    body.forEach((m, i) => this.#answer(m, outcomes[i]!, portId, opts, emit));
  }

  /** @internal The kernel side (FakeKernel): handles a request that is not part of a batch (GETGEN, dumps); emits its replies. */
  handle(it: MessageIter, portId: number, netns: string | null, emit: (d: Uint8Array) => void): FakeNack | undefined {
    const ns = this.#state(netns);
    const msg = it.type & 0xff;
    if (msg === NFT_MSG.NFT_MSG_GETGEN) {
      const b = new MessageBuilder(128);
      putGenMsg(b, it.seq, portId, ns.gen, ns.lastPid, this.procName);
      emit(take(b));
      return undefined;
    }
    if ((it.flags & NlmFlags.NLM_F_DUMP) !== NlmFlags.NLM_F_DUMP) return { errno: Errno.EOPNOTSUPP };
    const family = it.end - it.payloadOffset >= 1 ? it.buffer[it.payloadOffset]! : 0;
    const a = scanAttrs(it.buffer.slice(it.start, it.end));
    const tables = ns.tables.filter((t) => family === 0 || t.table.family === family);
    const puts: Array<(b: MessageBuilder) => void> = [];
    const multi = NlmFlags.NLM_F_MULTI;
    switch (msg) {
      case NFT_MSG.NFT_MSG_GETTABLE:
        for (const t of tables) puts.push((b) => putTableMsg(b, it.seq, portId, multi, tableView(t)));
        break;
      case NFT_MSG.NFT_MSG_GETCHAIN:
        for (const t of tables) for (const c of t.chains) puts.push((b) => putChainMsg(b, it.seq, portId, multi, c, chainUse(t, c)));
        break;
      case NFT_MSG.NFT_MSG_GETRULE:
        for (const t of tables.filter((x) => !a.has(1) || x.table.name === a.string(1))) {
          for (const c of t.chains.filter((x) => !a.has(2) || x.chain.name === a.string(2))) {
            for (const r of c.rules) puts.push((b) => putRuleMsg(b, it.seq, portId, multi, ruleView(t, c, r, true)));
          }
        }
        break;
      case NFT_MSG.NFT_MSG_GETSET:
        for (const t of tables.filter((x) => !a.has(1) || x.table.name === a.string(1))) {
          for (const s of t.sets) puts.push((b) => putSetMsg(b, it.seq, portId, multi, s.set));
        }
        break;
      case NFT_MSG.NFT_MSG_GETSETELEM: {
        const t = tables.find((x) => x.table.name === a.string(1));
        const s = t?.sets.find((x) => x.set.name === a.string(2));
        if (!s) return { errno: Errno.ENOENT };
        if (s.elements.size > 0) puts.push((b) => putElementsMsg(b, it.seq, portId, multi, s.set, [...s.elements.values()]));
        break;
      }
      default:
        return { errno: Errno.EOPNOTSUPP };
    }
    emitDump(this.perDatagram, puts, it.seq, portId, emit);
    return undefined;
  }

  #apply(m: ParsedMessage, ctx: ApplyContext): Outcome {
    if (m.type >> 8 !== NFNL_SUBSYS_NFTABLES || (m.flags & NlmFlags.NLM_F_REQUEST) === 0) return { errno: Errno.EINVAL };
    const i = this.#refusals.findIndex((r) => r.msg === m.msg);
    if (i >= 0) {
      const { nack } = this.#refusals.splice(i, 1)[0]!;
      return { errno: nack.errno, scripted: nack };
    }
    return applyMessage(m, ctx);
  }

  #answer(m: ParsedMessage, o: Outcome, portId: number, opts: AckOptions, emit: (d: Uint8Array) => void): void {
    let nack: FakeNack | undefined;
    if ('errno' in o) {
      nack = o.scripted ?? { errno: o.errno, offset: offsetOfPath(m.bytes, o.path) };
    }
    if (!nack && (m.flags & NlmFlags.NLM_F_ACK) === 0) return;
    const b = new MessageBuilder(128);
    const it = new MessageIter().reset(m.bytes);
    it.next();
    putAck(b, it, portId, opts, nack);
    emit(take(b));
  }

  #emitEchoes(body: ParsedMessage[], outcomes: Outcome[], tx: NetnsState, portId: number, emit: (d: Uint8Array) => void): void {
    const b = new MessageBuilder(4096);
    body.forEach((m, i) => {
      const o = outcomes[i]!;
      if (!(m.flags & NlmFlags.NLM_F_ECHO) || !('echo' in o)) return;
      const bytes = o.echo();
      if (bytes) {
        const at = b.reserve(bytes.length);
        b.buffer.set(bytes, at);
      }
    });
    if (b.length > 0) emit(take(b));
    // nf_tables_gen_notify, a datagram of its own: reported to the sender when the batch's first
    // message asked for an echo, with that message's seq.
    const first = body[0];
    if (first && first.flags & NlmFlags.NLM_F_ECHO) {
      putGenMsg(b, first.seq, portId, tx.gen, tx.lastPid, this.procName);
      emit(take(b));
    }
  }

  /** The echo of an object as it stands at commit; undefined when a later message of the batch removed it. */
  #echo(m: ParsedMessage, kind: string, t: FakeTable, portId: number, name?: string, handle?: number): Uint8Array | undefined {
    const b = new MessageBuilder(512);
    const flags = echoFlags(m.flags);
    const set = t.sets.find((s) => s.set.name === name)?.set;
    if (kind === 'table') {
      putTableMsg(b, m.seq, portId, flags, tableView(t));
    } else if (kind === 'chain') {
      const c = t.chains.find((x) => x.chain.name === name);
      if (!c) return undefined;
      putChainMsg(b, m.seq, portId, flags, c, chainUse(t, c));
    } else if (kind === 'rule') {
      const c = t.chains.find((x) => x.rules.some((r) => r.handle === handle));
      const r = c?.rules.find((x) => x.handle === handle);
      if (!c || !r) return undefined;
      putRuleMsg(b, m.seq, portId, flags, ruleView(t, c, r, false));
    } else if (set) {
      if (kind === 'set') putSetMsg(b, m.seq, portId, flags, set);
      else putElementsMsg(b, m.seq, portId, flags, set, scanAttrs(m.bytes).elements());
    } else {
      return undefined;
    }
    return take(b);
  }

  #nackBegin(begin: ParsedMessage, portId: number, opts: AckOptions, errno: number, emit: (d: Uint8Array) => void): void {
    this.#answer(begin, { errno }, portId, opts, emit);
  }

  #state(netns: string | null): NetnsState {
    const key = netns ?? '';
    let s = this.#ns.get(key);
    if (!s) this.#ns.set(key, (s = newNetnsState()));
    return s;
  }

  #table(name: string, family: number | undefined, netns: string | null): FakeTable | undefined {
    return this.#state(netns).tables.find((t) => t.table.name === name && (family === undefined || t.table.family === family));
  }
}
