/**
 * NftConnection: an nf_tables session over one NETLINK_NETFILTER socket — commits batches,
 * runs dry runs, dumps tables, chains, rules, sets and elements back into the values they
 * were built from.
 *
 * ```
 * commit:  sendto [BATCH_BEGIN m1 … mN BATCH_END]   sendto [GETGEN REQUEST|ACK]   ← the barrier
 *          ← echoes, NEWGEN, ACK/NACK per message … ← NEWGEN, ACK of the barrier: all answers are in
 * ```
 * Owner tables (NFT_TABLE_F_OWNER) belong to this connection's socket: `close()` — or the
 * process dying in any way — deletes them; other sockets can list them but get EPERM changing
 * them. Keep one connection open for as long as its owner tables should live.
 * @module
 */
import { MessageBuilder } from '../netlink/message_builder.js';
import { NetlinkProtocol, NlmFlags, Nfnetlink, NlmsgType } from '../netlink/constants.js';
import type { MessageIter } from '../netlink/message_iter.js';
import { NetlinkSocket, ackHandler } from '../socket/netlink_socket.js';
import { Errno } from '../_native/errno.js';
import { NetlinkError } from '../errors.js';
import { BatchAnswers, type CommitResult, type DryRunResult } from './answers.js';
import { NftBatch, type BatchOptions } from './batch.js';
import { decodeChain, type Chain } from './chain.js';
import { NFNL_SUBSYS_NFTABLES, NFPROTO, NFT_MSG, nftMsgName } from './constants.js';
import { decodeGeneration, type Generation } from './gen.js';
import { decodeRule, putRuleRef, type Rule } from './rule.js';
import { decodeSet, decodeSetElements, putSetElements, putSetRef, type NftSet, type SetElement } from './set.js';
import { decodeTable, type Table } from './table.js';

export type { CommitResult, DryRunResult } from './answers.js';

/** Options of {@link NftConnection.open}. */
export interface NftConnectionOptions {
  /** Network namespace file (/run/netns/NAME) to open the socket in. */
  netnsPath?: string | undefined;
  /** How long one commit, dry run or dump may take (default 5000 ms). */
  timeoutMs?: number | undefined;
  /** Receive buffer (default 1 MiB: the echoes of a large batch arrive at once). */
  receiveBufferBytes?: number | undefined;
}

/** How often a dump the kernel marked NLM_F_DUMP_INTR (the ruleset changed meanwhile) is retried. */
const DUMP_RETRIES = 3;

/**
 * @example
 * ```ts
 * const conn = NftConnection.open({ netnsPath: '/run/netns/lab' });
 * const batch = conn.batch();
 * batch.addTable({ family: NFPROTO.NFPROTO_INET, name: 'demo', flags: NFT_TABLE_F.NFT_TABLE_F_OWNER });
 * await conn.commit(batch);
 * console.log(await conn.listTables(NFPROTO.NFPROTO_INET));
 * conn.close();                                   // the owner table goes with it
 * ```
 */
export class NftConnection {
  #sock: NetlinkSocket;
  #timeoutMs: number;

  private constructor(sock: NetlinkSocket, timeoutMs: number) {
    this.#sock = sock;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Opens a NETLINK_NETFILTER socket (in `netnsPath` when given).
   * @throws {SystemCallError} when the socket cannot be opened (ENOENT: no such namespace).
   */
  static open(options: NftConnectionOptions = {}): NftConnection {
    const sock = NetlinkSocket.open(NetlinkProtocol.NETLINK_NETFILTER, {
      netnsPath: options.netnsPath,
      receiveBufferBytes: options.receiveBufferBytes ?? 1 << 20,
    });
    return new NftConnection(sock, options.timeoutMs ?? 5000);
  }

  /** The socket's netlink port id: what dumps report as the owner of this connection's tables. */
  get portId(): number {
    return this.#sock.portId;
  }

  /** True once the connection's socket is closed. */
  get closed(): boolean {
    return this.#sock.closed;
  }

  /** A new batch numbered by this connection's socket. */
  batch(options?: BatchOptions): NftBatch {
    return new NftBatch(() => this.#sock.nextSeq(), options);
  }

  /**
   * Commits `batch` atomically; resolves with one result per message, in order, carrying the
   * echoed object (with its handle) for messages sent with NLM_F_ECHO.
   * @throws {FirewallError} when the kernel refused the batch (nothing was applied): `code` is
   *   the errno name, `messageType`/`object`/`attribute` say where.
   * @throws {NetlinkError} ETIMEDOUT without an answer; EBADF when the connection closes first.
   */
  async commit(batch: NftBatch): Promise<CommitResult[]> {
    const { datagrams, answers } = this.#prepare(batch, false);
    await this.#sock.exchange(datagrams, answers.seqs, answers.onMessage, 'nf_tables commit', this.#timeoutMs);
    return answers.commitResults();
  }

  /** `commit()`, blocking: for exit-time cleanup only (the event loop will not turn again). */
  commitSync(batch: NftBatch): CommitResult[] {
    const { datagrams, answers } = this.#prepare(batch, false);
    this.#sock.exchangeSync(datagrams, answers.seqs, answers.onMessage, 'nf_tables commit', this.#timeoutMs);
    return answers.commitResults();
  }

  /**
   * Sends `batch` without BATCH_END: the kernel checks every message, then aborts. Nothing is
   * applied. Use it to probe what this kernel accepts (e.g. the native `queue` expression).
   * @returns the verdict on each message: processed, and the refusal if refused.
   */
  async dryRun(batch: NftBatch): Promise<DryRunResult[]> {
    const { datagrams, answers } = this.#prepare(batch, true);
    await this.#sock.exchange(datagrams, answers.seqs, answers.onMessage, 'nf_tables dry run', this.#timeoutMs);
    return answers.dryRunResults();
  }

  /** Tables of `family` (all families by default). */
  listTables(family: number = NFPROTO.NFPROTO_UNSPEC): Promise<Table[]> {
    return this.#dump(NFT_MSG.NFT_MSG_GETTABLE, family, undefined, (it) => decodeTable(it.buffer, it.payloadOffset, it.end));
  }

  /** Chains of `family`, of `table` when given. */
  async listChains(family: number = NFPROTO.NFPROTO_UNSPEC, table?: string): Promise<Chain[]> {
    const all = await this.#dump(NFT_MSG.NFT_MSG_GETCHAIN, family, undefined, (it) => decodeChain(it.buffer, it.payloadOffset, it.end));
    return table === undefined ? all : all.filter((c) => c.table === table);
  }

  /** Rules of `family`, of `table` and `chain` when given, with their handles and counters. */
  async listRules(family: number = NFPROTO.NFPROTO_UNSPEC, table?: string, chain?: string): Promise<Rule[]> {
    // The kernel filters a rule dump by table and chain; filter again in case an old one does not.
    const all = await this.#dump(NFT_MSG.NFT_MSG_GETRULE, family, (b) => putRuleRef(b, { table, chain }), (it) => decodeRule(it.buffer, it.payloadOffset, it.end));
    return all.filter((r) => (table === undefined || r.table === table) && (chain === undefined || r.chain === chain));
  }

  /** Sets and maps of `family`, of `table` when given. */
  async listSets(family: number = NFPROTO.NFPROTO_UNSPEC, table?: string): Promise<NftSet[]> {
    const put = table === undefined ? undefined : (b: MessageBuilder) => putSetRef(b, { family, table });
    const all = await this.#dump(NFT_MSG.NFT_MSG_GETSET, family, put, (it) => decodeSet(it.buffer, it.payloadOffset, it.end));
    return table === undefined ? all : all.filter((s) => s.table === table);
  }

  /**
   * Elements of one set or map.
   * @throws {NetlinkError} ENOENT when the table or set does not exist.
   */
  async listSetElements(family: number, table: string, set: string): Promise<SetElement[]> {
    const parts = await this.#dump(NFT_MSG.NFT_MSG_GETSETELEM, family, (b) => putSetElements(b, { family, table, name: set }, []), (it) =>
      decodeSetElements(it.buffer, it.payloadOffset, it.end),
    );
    return parts.flatMap((p) => p.elements);
  }

  /** The ruleset generation (it grows by one per commit). */
  async getGeneration(): Promise<Generation> {
    const seq = this.#sock.nextSeq();
    const op = 'nf_tables getgen';
    const acked = ackHandler(op);
    let gen: Generation | undefined;
    await this.#sock.exchange(getGen(seq), [seq], (it) => {
      if (it.type !== NlmsgType.NLMSG_ERROR && (it.type & 0xff) === NFT_MSG.NFT_MSG_NEWGEN) {
        gen = decodeGeneration(it.buffer, it.payloadOffset, it.end);
        return false;
      }
      return acked(it);
    }, op, this.#timeoutMs);
    if (!gen) throw new NetlinkError(op, Errno.EPROTO, seq, {}, `${op}: the kernel acknowledged without a NEWGEN message`);
    return gen;
  }

  /** Closes the socket; the kernel deletes the owner tables it created. Idempotent. Blocks
   * while the kernel finishes (5–25 ms after changes): exit paths; else {@link closeAsync}. */
  close(): void {
    this.#sock.close();
  }

  /** {@link close} without blocking the event loop; resolves when the socket is closed (and its owner tables gone). */
  closeAsync(): Promise<void> {
    return this.#sock.closeAsync();
  }

  #prepare(batch: NftBatch, dryRun: boolean): { datagrams: Uint8Array[]; answers: BatchAnswers } {
    if (batch.messages.length === 0) throw new TypeError('The batch is empty');
    const barrier = this.#sock.nextSeq();
    const answers = new BatchAnswers(batch, barrier, dryRun);
    // Two datagrams: the barrier is handled only after the whole batch (see answers.ts).
    return { datagrams: [dryRun ? batch.dryRunBytes() : batch.bytes(), getGen(barrier)], answers };
  }

  async #dump<T>(msg: number, family: number, put: ((b: MessageBuilder) => void) | undefined, decode: (it: MessageIter) => T): Promise<T[]> {
    const op = `nf_tables dump (${nftMsgName(msg)})`;
    for (let attempt = 0; ; attempt++) {
      const seq = this.#sock.nextSeq();
      const b = new MessageBuilder(256);
      b.begin((NFNL_SUBSYS_NFTABLES << 8) | msg, NlmFlags.NLM_F_REQUEST | NlmFlags.NLM_F_DUMP, seq);
      b.putNfgenmsg(family, Nfnetlink.NFNETLINK_V0, 0);
      put?.(b);
      b.end();
      const out: T[] = [];
      let interrupted = false;
      await this.#sock.dump(b.bytes().slice(), seq, op, (it) => {
        if ((it.flags & NlmFlags.NLM_F_DUMP_INTR) !== 0) interrupted = true;
        out.push(decode(it));
      }, this.#timeoutMs);
      if (!interrupted) return out;
      // The ruleset changed during the dump: what came may mix two generations. Ask again.
      if (attempt >= DUMP_RETRIES) throw new NetlinkError(op, Errno.EINTR, seq, {}, `${op}: the ruleset kept changing during ${DUMP_RETRIES + 1} dumps (NLM_F_DUMP_INTR); try again`);
    }
  }
}

/** NFT_MSG_GETGEN with NLM_F_ACK: the answer is NEWGEN then the ACK. */
function getGen(seq: number): Uint8Array {
  const b = new MessageBuilder(64);
  b.begin((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG.NFT_MSG_GETGEN, NlmFlags.NLM_F_REQUEST | NlmFlags.NLM_F_ACK, seq);
  b.putNfgenmsg(NFPROTO.NFPROTO_UNSPEC, Nfnetlink.NFNETLINK_V0, 0);
  b.end();
  return b.bytes().slice();
}

