/**
 * A transaction: one nfnetlink batch that the kernel applies all or nothing.
 *
 * ```
 * | BATCH_BEGIN seq=b  nfgenmsg{AF_UNSPEC, 0, res_id = be16 NFNL_SUBSYS_NFTABLES} [NFNL_BATCH_GENID]
 * | NFT_MSG_NEWTABLE   seq=b+1  REQUEST|ACK|CREATE[|EXCL][|ECHO]   nfgenmsg{family} NFTA_TABLE_*
 * | NFT_MSG_NEWRULE    seq=b+2  REQUEST|ACK|CREATE|APPEND[|ECHO]  nfgenmsg{family} NFTA_RULE_*
 * | …
 * | BATCH_END          seq=e    (left out by a dry run: the kernel then validates and aborts)
 * ```
 * Every message asks for an ACK, so each one is answered (ACK or NACK). For each message the
 * batch keeps its seq, uapi op name, a phrase saying what it is about, and its bytes, from
 * which `attributes()` names every attribute by path: an NLMSG_ERROR's seq and extack offset
 * map back to "NFT_MSG_NEWRULE of rule inet t c: NFTA_RULE_EXPRESSIONS > elem 3 (cmp)".
 * @module
 */
import { putU32ne } from '../netlink/bytes.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import { NlmFlags, Nfnetlink } from '../netlink/constants.js';
import { AddressFamily } from '../netlink/families.js';
import { attributePathAt, attributePaths, type AttrLocation } from './attr_path.js';
import { putChain, putChainRef, type Chain, type ChainRef } from './chain.js';
import { familyName, NFNL_BATCH, NFNL_SUBSYS_NFTABLES, NFT_MSG, nftMsgName } from './constants.js';
import { putRule, putRuleRef, type Rule, type RuleRef } from './rule.js';
import { putSet, putSetElements, putSetRef, type NftSet, type SetElement, type SetRef } from './set.js';
import { putTable, putTableRef, type Table, type TableRef } from './table.js';

/** Hands out netlink sequence numbers (the socket's `nextSeq`, or a counter in tests). */
export type SeqAllocator = () => number;

/** What a batch message changes. */
export type ObjectKind = 'table' | 'chain' | 'rule' | 'set' | 'elements';

/** One message of a batch, as recorded for mapping answers back to it. */
export interface BatchMessage {
  /** Index in the batch (BATCH_BEGIN excluded). */
  readonly index: number;
  /** Its nlmsg_seq: the kernel's answer to it carries the same. */
  readonly seq: number;
  /** NFT_MSG_* number. */
  readonly msg: number;
  /** uapi name: "NFT_MSG_NEWRULE". */
  readonly op: string;
  /** What kind of object it adds or deletes. */
  readonly kind: ObjectKind;
  /** "rule inet divert-123 prerouting", "table inet divert-123". */
  readonly about: string;
  /** NFPROTO_* (nfgenmsg). */
  readonly family: number;
  /** nlmsg_flags as sent. */
  readonly flags: number;
  /** Whether the kernel echoes the object back (NLM_F_ECHO). */
  readonly echo: boolean;
}

/** Options for NEW* messages. */
export interface AddOptions {
  /** NLM_F_EXCL: fail with EEXIST when it exists (default: add or keep). */
  exclusive?: boolean;
  /** NLM_F_ECHO: the kernel sends the object back with its handle (default true; elements: false). */
  echo?: boolean;
}

/** Options of a new {@link NftBatch}. */
export interface BatchOptions {
  /** NFNL_BATCH_GENID: refuse the batch (ERESTART) if the ruleset generation moved past this. */
  genId?: number;
}

interface Stored extends BatchMessage {
  /** The message, from its nlmsghdr. */
  readonly bytes: Uint8Array;
}

let testSeq = 0;

/**
 * Collects the messages of one transaction.
 *
 * @example
 * ```ts
 * const batch = conn.batch();
 * batch.addTable({ family: NFPROTO.NFPROTO_INET, name: 'divert-42', flags: NFT_TABLE_F.NFT_TABLE_F_OWNER });
 * batch.addChain({ family: NFPROTO.NFPROTO_INET, table: 'divert-42', name: 'prerouting', type: 'filter',
 *                  hook: { hooknum: NF_INET.NF_INET_PRE_ROUTING, priority: -150 } });
 * batch.addRule({ family: NFPROTO.NFPROTO_INET, table: 'divert-42', chain: 'prerouting', exprs });
 * const results = await conn.commit(batch);   // results[2].object.handle: the rule's handle
 * ```
 */
export class NftBatch {
  /** Seq of BATCH_BEGIN (allocated when the batch is made). */
  readonly beginSeq: number;
  #seq: SeqAllocator;
  #builder = new MessageBuilder(1024);
  #messages: Stored[] = [];
  #bySeq = new Map<number, Stored>();
  #genId: number | undefined;
  #endSeq: number | undefined;
  #setIds = 0;

  /** @param seq sequence allocator (default: a process-wide counter, for tests and dry builds). */
  constructor(seq: SeqAllocator = () => (testSeq = (testSeq + 1) >>> 0 || 1), options: BatchOptions = {}) {
    this.#seq = seq;
    this.#genId = options.genId;
    this.beginSeq = seq();
  }

  /** The messages added so far, in order. */
  get messages(): readonly BatchMessage[] {
    return this.#messages;
  }

  /** Seq of BATCH_END (allocated on first use). */
  get endSeq(): number {
    this.#endSeq ??= this.#seq();
    return this.#endSeq;
  }

  /** NEWTABLE. */
  addTable(t: Table, options: AddOptions = {}): BatchMessage {
    const f = newFlags(options, true);
    return this.#add(NFT_MSG.NFT_MSG_NEWTABLE, f, t.family, 'table', `table ${familyName(t.family)} ${t.name}`, (b) => putTable(b, t));
  }

  /**
   * DELTABLE (with every chain, rule and set in it); `nonRecursive` (NLM_F_NONREC): refused with
   * EBUSY unless the table is empty (no chains or sets left, those deleted in this batch aside).
   */
  deleteTable(t: TableRef, options: DeleteOptions = {}): BatchMessage {
    return this.#add(NFT_MSG.NFT_MSG_DELTABLE, delFlags(options), t.family, 'table', `table ${familyName(t.family)} ${t.name ?? `handle ${t.handle}`}`, (b) => putTableRef(b, t));
  }

  /** NEWCHAIN: a base chain when `hook` is given, else a regular chain. */
  addChain(c: Chain, options: AddOptions = {}): BatchMessage {
    const about = `chain ${familyName(c.family)} ${c.table} ${c.name}`;
    return this.#add(NFT_MSG.NFT_MSG_NEWCHAIN, newFlags(options, true), c.family, 'chain', about, (b) => putChain(b, c));
  }

  /**
   * DELCHAIN, with its rules; `nonRecursive` (NLM_F_NONREC): refused with EBUSY while the chain
   * holds a rule (an atomic "delete it if it is empty").
   */
  deleteChain(c: ChainRef, options: DeleteOptions = {}): BatchMessage {
    const about = `chain ${familyName(c.family)} ${c.table} ${c.name ?? `handle ${c.handle}`}`;
    return this.#add(NFT_MSG.NFT_MSG_DELCHAIN, delFlags(options), c.family, 'chain', about, (b) => putChainRef(b, c));
  }

  /** NEWRULE appended at the end of the chain, or after the rule `r.position` names. */
  addRule(r: Rule, options: Omit<AddOptions, 'exclusive'> = {}): BatchMessage {
    return this.#rule(r, newFlags(options, true) | NlmFlags.NLM_F_APPEND);
  }

  /** NEWRULE inserted at the start of the chain, or before the rule `r.position` names. */
  insertRule(r: Rule, options: Omit<AddOptions, 'exclusive'> = {}): BatchMessage {
    return this.#rule(r, newFlags(options, true));
  }

  /**
   * NEWRULE replacing the rule with handle `r.handle` (NLM_F_REPLACE).
   * @throws {TypeError} without a handle.
   */
  replaceRule(r: Rule, options: Omit<AddOptions, 'exclusive'> = {}): BatchMessage {
    if (r.handle === undefined) throw new TypeError('replaceRule() needs the handle of the rule to replace');
    const echo = options.echo ?? true;
    return this.#rule(r, NlmFlags.NLM_F_REQUEST | NlmFlags.NLM_F_ACK | NlmFlags.NLM_F_REPLACE | (echo ? NlmFlags.NLM_F_ECHO : 0));
  }

  /** DELRULE: one rule by handle, or every rule of the chain (or table) without one. */
  deleteRule(r: RuleRef): BatchMessage {
    const where = [familyName(r.family), r.table, r.chain].filter((x) => x !== undefined).join(' ');
    const about = r.handle === undefined ? `rules of ${where}` : `rule ${where} handle ${r.handle}`;
    return this.#add(NFT_MSG.NFT_MSG_DELRULE, DEL, r.family, 'rule', about, (b) => putRuleRef(b, r));
  }

  /**
   * NEWSET (a map when it has NFT_SET_MAP and a data type). The kernel requires NFTA_SET_ID:
   * without `s.id` the batch numbers its sets 1, 2, … (as nft does).
   */
  addSet(s: NftSet, options: AddOptions = {}): BatchMessage {
    const about = `set ${familyName(s.family)} ${s.table} ${s.name}`;
    // Numbering continues above any id the caller chose, so two sets never share one.
    if (s.id !== undefined) this.#setIds = Math.max(this.#setIds, s.id);
    const set = s.id === undefined ? { ...s, id: ++this.#setIds } : s;
    return this.#add(NFT_MSG.NFT_MSG_NEWSET, newFlags(options, true), s.family, 'set', about, (b) => putSet(b, set));
  }

  /** DELSET. */
  deleteSet(s: SetRef): BatchMessage {
    const about = `set ${familyName(s.family)} ${s.table} ${s.name ?? `handle ${s.handle}`}`;
    return this.#add(NFT_MSG.NFT_MSG_DELSET, DEL, s.family, 'set', about, (b) => putSetRef(b, s));
  }

  /** NEWSETELEM. */
  addElements(set: SetRef, elements: readonly SetElement[], options: AddOptions = {}): BatchMessage {
    const about = `elements of set ${familyName(set.family)} ${set.table} ${set.name ?? `id ${set.id}`}`;
    return this.#add(NFT_MSG.NFT_MSG_NEWSETELEM, newFlags(options, false), set.family, 'elements', about, (b) => putSetElements(b, set, elements));
  }

  /** DELSETELEM. */
  deleteElements(set: SetRef, elements: readonly SetElement[]): BatchMessage {
    const about = `elements of set ${familyName(set.family)} ${set.table} ${set.name ?? `id ${set.id}`}`;
    return this.#add(NFT_MSG.NFT_MSG_DELSETELEM, DEL, set.family, 'elements', about, (b) => putSetElements(b, set, elements));
  }

  /** The message sent with `seq`: one of the batch's, or undefined (BATCH_BEGIN/END included). */
  find(seq: number): BatchMessage | undefined {
    return this.#bySeq.get(seq);
  }

  /** The bytes of message `m` (a copy), from its nlmsghdr. */
  messageBytes(m: BatchMessage): Uint8Array {
    return this.#stored(m).bytes.slice();
  }

  /** Every attribute of message `m`, with its offset from the message's nlmsghdr and its path. */
  attributes(m: BatchMessage): AttrLocation[] {
    return attributePaths(this.messageBytes(m));
  }

  /** The path of the attribute at `offset` of message `m` (an extack NLMSGERR_ATTR_OFFS). */
  attributeAt(m: BatchMessage, offset: number): string | undefined {
    return attributePathAt(this.messageBytes(m), offset);
  }

  /** The datagram to commit: BATCH_BEGIN, the messages, BATCH_END. */
  bytes(): Uint8Array {
    return this.#datagram(true);
  }

  /** The datagram of a dry run: BATCH_BEGIN and the messages, no BATCH_END. */
  dryRunBytes(): Uint8Array {
    return this.#datagram(false);
  }

  #rule(r: Rule, flags: number): BatchMessage {
    const where = [familyName(r.family), r.table, r.chain ?? `chain id ${r.chainId}`].join(' ');
    const about = r.handle !== undefined ? `rule ${where} handle ${r.handle}` : `rule ${where}`;
    return this.#add(NFT_MSG.NFT_MSG_NEWRULE, flags, r.family, 'rule', about, (b) => putRule(b, r));
  }

  #add(msg: number, flags: number, family: number, kind: ObjectKind, about: string, put: (b: MessageBuilder) => void): BatchMessage {
    // Built aside, so a value the encoder rejects leaves the batch as it was.
    const b = this.#builder.reset();
    b.begin((NFNL_SUBSYS_NFTABLES << 8) | msg, flags, 0);
    b.putNfgenmsg(family, Nfnetlink.NFNETLINK_V0, 0);
    try {
      put(b);
    } finally {
      b.end();
    }
    const seq = this.#seq();
    const bytes = b.bytes().slice();
    putU32ne(bytes, 8, seq);
    const echo = (flags & NlmFlags.NLM_F_ECHO) !== 0;
    const m: Stored = { index: this.#messages.length, seq, msg, op: nftMsgName(msg), kind, about, family, flags, echo, bytes };
    this.#messages.push(m);
    this.#bySeq.set(seq, m);
    return m;
  }

  #stored(m: BatchMessage): Stored {
    const s = this.#bySeq.get(m.seq);
    if (!s) throw new RangeError(`Message seq ${m.seq} is not part of this batch`);
    return s;
  }

  #datagram(end: boolean): Uint8Array {
    const frame = new MessageBuilder(64);
    frame.begin(Nfnetlink.NFNL_MSG_BATCH_BEGIN, NlmFlags.NLM_F_REQUEST, this.beginSeq);
    frame.putNfgenmsg(AddressFamily.AF_UNSPEC, Nfnetlink.NFNETLINK_V0, NFNL_SUBSYS_NFTABLES);
    if (this.#genId !== undefined) frame.putAttrU32be(NFNL_BATCH.NFNL_BATCH_GENID, this.#genId);
    frame.end();
    const begin = frame.bytes().slice();
    let tail = new Uint8Array(0);
    if (end) {
      frame.reset().begin(Nfnetlink.NFNL_MSG_BATCH_END, NlmFlags.NLM_F_REQUEST, this.endSeq);
      frame.putNfgenmsg(AddressFamily.AF_UNSPEC, Nfnetlink.NFNETLINK_V0, NFNL_SUBSYS_NFTABLES);
      frame.end();
      tail = frame.bytes().slice();
    }
    const parts = [begin, ...this.#messages.map((m) => m.bytes), tail];
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }
}

const DEL = NlmFlags.NLM_F_REQUEST | NlmFlags.NLM_F_ACK;

/** Options for DELTABLE / DELCHAIN. */
export interface DeleteOptions {
  /** NLM_F_NONREC: only when empty (EBUSY otherwise). */
  nonRecursive?: boolean;
}

function delFlags(o: DeleteOptions): number {
  return DEL | (o.nonRecursive ? NlmFlags.NLM_F_NONREC : 0);
}

function newFlags(o: AddOptions, echoByDefault: boolean): number {
  let f = NlmFlags.NLM_F_REQUEST | NlmFlags.NLM_F_ACK | NlmFlags.NLM_F_CREATE;
  if (o.exclusive) f |= NlmFlags.NLM_F_EXCL;
  if (o.echo ?? echoByDefault) f |= NlmFlags.NLM_F_ECHO;
  return f;
}
