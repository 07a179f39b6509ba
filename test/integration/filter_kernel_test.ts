/**
 * The filter compiler against the real kernel, differentially: for each filter, its lowered
 * rules are installed in a throwaway namespace, packets are sent through the hooks (outbound:
 * the divert socket's raw injection, seen at postrouting; inbound: its injection on a veth,
 * seen at prerouting) and what the kernel queued is compared with the evaluator, packet by
 * packet: an exact rule may only queue matching packets, and every matching packet must be
 * queued (exactly, or by a residual rule for user space to decide). The kernel's choice of rule
 * is also compared with src/filter/_nft_sim.ts, the model the unit tests use.
 *
 * Every rule sets a mark naming itself before the queue verdict, so one queue carries them all
 * in order; a marker packet (first rule of each chain) closes each batch. A chain at priority
 * -300 sets the mark the evaluator is told (the injected packets carry divert's mark).
 *
 * Runs: the whole case table (IPv4 and IPv6, both directions), and a seeded random run of
 * FILTER_FUZZ_PAIRS filter-packet pairs (default 3000; `npm run fuzz:filter` runs 100,000)
 * from FILTER_FUZZ_SEED (default 1), within FILTER_FUZZ_SECONDS (default 600).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createNetns, havePrivilege, ifindexOf, requirePrivilege, type Netns } from '../_harness/netns.js';
import { createDivertSocket, DIVERT_MARK, type DivertPacket, type DivertSocket } from '../../src/mod.js';
import { ne32, NftConnection, NFPROTO, NF_INET, NFT_META, NFT_PAYLOAD, NFT_CMP, type Expr, type NftBatch } from '../../src/nftables/mod.js';
import { queueExpr, type QueueVerdict } from '../../src/firewall/compile.js';
import { probeKernel } from '../../src/firewall/kernel.js';
import { buildUdpPacket } from '../../src/packet/build.js';
import { internetChecksum } from '../../src/packet/checksum.js';
import { compileFilter, fieldValue, type FilterAddress } from '../../src/filter/evaluate.js';
import { lowerFilter, type LoweredFilter } from '../../src/filter/lower_nft.js';
import { simulate, type SimMeta } from '../../src/filter/_nft_sim.js';
import { CASES, PACKETS } from '../../src/filter/testdata/cases.js';
import { Rng, randomFilter, randomPacket } from '../../src/filter/_random.js';

const INET = NFPROTO.NFPROTO_INET;
const TABLE = 'filtertest';
const QUEUE = 4321;
const TAG = 0x100;
const MARKER_TAG = 0xff;
const MARKER_DST = [198, 18, 250, 250];

type Dir = 'in' | 'out';

interface Sent {
  readonly dir: Dir;
  readonly bytes: Uint8Array;
  readonly key: string;
}

/** The namespace, its veth, the nf_tables connection and the queue, shared by the tests. */
class Lab {
  readonly ns: Netns;
  readonly ifname: string;
  readonly ifindex: number;
  readonly conn: NftConnection;
  readonly sock: DivertSocket;
  /** How rules queue here: the native expression where the kernel has nft_queue, else the compat NFQUEUE target. */
  readonly verdict: QueueVerdict;
  #queued: Array<{ key: string; rule: number }> = [];
  #markers = new Set<string>();
  #waiters: Array<() => void> = [];
  #tableExists = false;
  #markerSeq = 0;

  private constructor(ns: Netns, ifname: string, ifindex: number, conn: NftConnection, sock: DivertSocket, verdict: QueueVerdict) {
    this.ns = ns;
    this.ifname = ifname;
    this.ifindex = ifindex;
    this.conn = conn;
    this.sock = sock;
    this.verdict = verdict;
  }

  /** `ns` and `sink` are made by the caller, in the suite's body (createNetns registers their removal there). */
  static async open(ns: Netns, sink: Netns): Promise<Lab> {
    const link = connect(ns, sink, 99);
    // Every test address leaves by the veth (none is assigned to it: nothing answers). No ARP/ND:
    // packets leave at once instead of filling the raw socket's buffer while neighbours resolve.
    ns.exec('ip', ['link', 'set', link.a, 'arp', 'off']);
    ns.exec('ip', ['route', 'add', '198.18.0.0/15', 'dev', link.a]);
    ns.exec('ip', ['-6', 'route', 'add', '2001:db8::/32', 'dev', link.a]);
    const ifindex = ifindexOf(ns, link.a);
    const conn = NftConnection.open({ netnsPath: ns.path, timeoutMs: 10_000 });
    const probe = await probeKernel(conn);
    const sock = createDivertSocket({ netns: ns.name, handleSignals: false, verdictTimeoutMs: 0, fillChecksums: false });
    await sock.bind(QUEUE);
    const lab = new Lab(ns, link.a, ifindex, conn, sock, probe.queue === undefined ? 'queue' : 'compat');
    void lab.#receive();
    return lab;
  }

  async #receive(): Promise<void> {
    try {
      for await (const p of this.sock) this.#onPacket(p);
    } catch {
      // closed
    }
  }

  #onPacket(p: DivertPacket): void {
    const dir: Dir = p.address.hook === 'prerouting' ? 'in' : 'out';
    const key = `${dir}:${Buffer.from(p.packet).toString('hex')}`;
    if (p.address.mark === MARKER_TAG) {
      this.#markers.add(key);
      for (const w of this.#waiters.splice(0)) w();
    } else if (p.address.mark >= TAG) {
      this.#queued.push({ key, rule: p.address.mark - TAG });
    }
    p.reinject();
  }

  /** Replaces the test table: chains, the marker rules, the mark-setting rules and `lowered`. */
  async install(lowered: LoweredFilter, mark: number): Promise<void> {
    const b = this.conn.batch();
    if (this.#tableExists) b.deleteTable({ family: INET, name: TABLE });
    b.addTable({ family: INET, name: TABLE });
    for (const [name, hooknum, priority] of [['pre', NF_INET.NF_INET_PRE_ROUTING, -150], ['post', NF_INET.NF_INET_POST_ROUTING, -150],
      ['mpre', NF_INET.NF_INET_PRE_ROUTING, -300], ['mpost', NF_INET.NF_INET_POST_ROUTING, -300]] as const) {
      b.addChain({ family: INET, table: TABLE, name, type: 'filter', hook: { hooknum, priority } });
    }
    for (const chain of ['mpre', 'mpost']) b.addRule({ family: INET, table: TABLE, chain, exprs: setMark(mark) });
    for (const chain of ['pre', 'post']) b.addRule({ family: INET, table: TABLE, chain, exprs: [...markerMatch(), ...queueAs(MARKER_TAG, this.verdict)] });
    for (const s of lowered.sets) {
      b.addSet(s.set);
      b.addElements({ family: INET, table: TABLE, name: s.set.name }, s.elements);
    }
    lowered.rules.forEach((r, i) => {
      b.addRule({ family: INET, table: TABLE, chain: r.hook === 'prerouting' ? 'pre' : 'post', exprs: [...r.exprs, ...queueAs(TAG + i, this.verdict)] });
    });
    await this.conn.commit(b);
    this.#tableExists = true;
  }

  /** Sends `packets`, then a marker each way; resolves with the rule that queued each packet (-1: none). */
  async run(packets: readonly Sent[]): Promise<number[]> {
    this.#queued = [];
    for (const p of packets) this.#send(p);
    await this.sync();
    return packets.map((p) => this.take(p.key)[0] ?? -1);
  }

  /** Forgets what was queued so far. */
  clear(): void {
    this.#queued = [];
  }

  /** Sends a marker each way and waits for both: everything sent before has been queued or not. */
  async sync(settleMs = 0): Promise<void> {
    if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
    const seq = ++this.#markerSeq;
    const markers = (['out', 'in'] as const).map((dir) => this.#send({ dir, ...keyed(dir, markerPacket(seq)) }));
    const deadline = Date.now() + 5000;
    while (!markers.every((k) => this.#markers.has(k))) {
      if (Date.now() > deadline) throw new Error(`marker ${seq} did not come back within 5 s`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    for (const k of markers) this.#markers.delete(k);
  }

  /** The rules (by index) that queued the packet `key` names, one entry per copy queued. */
  take(key: string): number[] {
    return this.takeWhere((k) => k === key).map((q) => q.rule);
  }

  /** What was queued with a key (`in:`/`out:` and the packet's hex) passing `pred`. */
  takeWhere(pred: (key: string) => boolean): Array<{ key: string; rule: number }> {
    const hit = this.#queued.filter((q) => pred(q.key));
    this.#queued = this.#queued.filter((q) => !pred(q.key));
    return hit;
  }

  #send(p: Sent): string {
    this.sock.sendto(p.bytes, p.dir === 'in' ? { interface: this.ifname } : undefined);
    return p.key;
  }

  /** Sends one packet outbound from this namespace, as a program here would. */
  sendOut(bytes: Uint8Array): void {
    this.sock.sendto(bytes);
  }

  address(dir: Dir, mark: number): FilterAddress {
    return dir === 'in'
      ? { hook: 'prerouting', ifindex: this.ifindex, outIfindex: 0, loopback: false, mark }
      : { hook: 'postrouting', ifindex: 0, outIfindex: this.ifindex, loopback: false, mark };
  }

  simMeta(dir: Dir, mark: number): SimMeta {
    return dir === 'in'
      ? { hook: 'prerouting', iif: this.ifindex, oif: 0, iiftype: 1, oiftype: 0, mark }
      : { hook: 'postrouting', iif: 0, oif: this.ifindex, iiftype: 0, oiftype: 1, mark };
  }

  async close(): Promise<void> {
    await this.sock.close();
    this.conn.close();
  }
}

function keyed(dir: Dir, bytes: Uint8Array): { bytes: Uint8Array; key: string } {
  return { bytes, key: `${dir}:${Buffer.from(bytes).toString('hex')}` };
}

function markerPacket(seq: number): Uint8Array {
  // A non-zero id: the kernel fills in a zero one on raw injection, and the marker must come back as sent.
  return buildUdpPacket({ src: '198.18.250.1', dst: MARKER_DST.join('.'), srcPort: 9, dstPort: 9, payload: `marker ${seq}`, ident: (seq & 0xfffe) | 1 });
}

const R1 = 1;

function setMark(mark: number): Expr[] {
  return [{ type: 'immediate', dreg: R1, data: { value: ne32(mark) } }, { type: 'meta', key: NFT_META.NFT_META_MARK, sreg: R1 }];
}

function queueAs(tag: number, verdict: QueueVerdict): Expr[] {
  return [...setMark(tag), queueExpr({ port: QUEUE, passThrough: false }, verdict)];
}

function markerMatch(): Expr[] {
  return [
    { type: 'meta', key: NFT_META.NFT_META_NFPROTO, dreg: R1 },
    { type: 'cmp', op: NFT_CMP.NFT_CMP_EQ, sreg: R1, data: Uint8Array.of(NFPROTO.NFPROTO_IPV4) },
    { type: 'payload', base: NFT_PAYLOAD.NFT_PAYLOAD_NETWORK_HEADER, offset: 16, len: 4, dreg: R1 },
    { type: 'cmp', op: NFT_CMP.NFT_CMP_EQ, sreg: R1, data: Uint8Array.from(MARKER_DST) },
  ];
}

/**
 * A table packet with its addresses moved into the documentation ranges (WinDivert's packets use
 * 10.0.0.1, 8.8.8.8, ::1…): IPv4 a.b.c.d → 198.18.c.d, IPv6 → 2001:db8: prefix; IPv4 checksum redone.
 */
function documentationAddresses(p: Uint8Array): Uint8Array {
  const b = p.slice();
  if (b[0]! >> 4 === 4) {
    for (const at of [12, 16]) {
      if (b[at] === 198 && (b[at + 1]! & 0xfe) === 18) continue;
      b[at] = 198;
      b[at + 1] = 18;
      if (b[at + 2] === 99 || b[at + 2] === 250) b[at + 2]! ^= 0x40;
    }
    const hl = (b[0]! & 0x0f) * 4;
    b[10] = b[11] = 0;
    const sum = internetChecksum(b, 0, hl);
    b[10] = sum >> 8;
    b[11] = sum & 0xff;
  } else {
    for (const at of [8, 24]) if (!(b[at] === 0x20 && b[at + 1] === 0x01 && b[at + 2] === 0x0d && b[at + 3] === 0xb8)) b.set([0x20, 0x01, 0x0d, 0xb8], at);
  }
  return b;
}

interface Tally {
  pairs: number;
  matches: number;
  exact: number;
  residual: number;
  problems: string[];
}

/** One filter against the kernel: installs it, sends, and checks each packet. */
async function check(lab: Lab, filter: string, packets: readonly Sent[], mark: number, tally: Tally, prefix: string): Promise<void> {
  const lowered = lowerFilter(filter, { table: TABLE, setPrefix: prefix });
  const compiled = compileFilter(filter);
  try {
    await lab.install(lowered, mark);
  } catch (err) {
    throw new Error(`Installing the rules of ${JSON.stringify(filter)} failed (${(err as Error).message}):\n${lowered.explain()}`, { cause: err });
  }
  const got = await lab.run(packets);
  packets.forEach((p, i) => {
    const ruleIndex = got[i]!;
    const rule = ruleIndex >= 0 ? lowered.rules[ruleIndex] : undefined;
    const expected = compiled.match(p.bytes, lab.address(p.dir, mark));
    const sim = simulate(lowered, p.bytes, lab.simMeta(p.dir, mark));
    const decided = rule !== undefined && (!rule.residual || expected);
    tally.pairs++;
    if (expected) tally.matches++;
    if (rule && !rule.residual) tally.exact++;
    else if (rule) tally.residual++;
    const simIndex = sim ? lowered.rules.indexOf(sim) : -1;
    if (decided !== expected || simIndex !== ruleIndex) {
      tally.problems.push(`${JSON.stringify(filter)} ${p.dir} mark=0x${mark.toString(16)} packet=${Buffer.from(p.bytes).toString('hex')}: evaluator ${expected}, kernel rule ${ruleIndex}${rule ? (rule.residual ? ' (residual)' : ' (exact)') : ''}, model rule ${simIndex}`);
    }
  });
}

describe('filter rules against the kernel (differential)', { skip: !havePrivilege() && process.env['DIVERT_REQUIRE_PRIVILEGED'] !== '1' ? 'needs root to create network namespaces' : false }, () => {
  let lab: Lab;
  const namespaces = havePrivilege() ? [createNetns(), createNetns(), createNetns()] as const : undefined;
  before(async () => {
    if (namespaces) lab = await Lab.open(namespaces[0], namespaces[1]);
  });
  after(async () => {
    await lab?.close();
  });

  test('the case table: kernel-queued ∩ residue equals the evaluator, case for case, IPv4 and IPv6, both directions', async (t) => {
    if (!requirePrivilege(t)) return;
    const tally: Tally = { pairs: 0, matches: 0, exact: 0, residual: 0, problems: [] };
    const started = Date.now();
    for (const [i, c] of CASES.entries()) {
      const bytes = documentationAddresses(PACKETS[c.packet]!);
      const packets = (['out', 'in'] as const).map((dir) => ({ dir, ...keyed(dir, bytes) }));
      await check(lab, c.filter, packets, i % 2 === 0 ? 0 : DIVERT_MARK, tally, `c${i}_`);
      assert.ok(Date.now() - started < 300_000, 'the case table took longer than 5 minutes');
    }
    t.diagnostic(`${CASES.length} cases (rules queue by ${lab.verdict === 'queue' ? 'the queue expression' : 'the compat NFQUEUE target'}), ${tally.pairs} packet sends: ${tally.matches} match, kernel decided ${tally.exact} exactly, ${tally.residual} went to the residue`);
    assert.deepEqual(tally.problems, []);
    assert.ok(tally.exact > 0 && tally.pairs === CASES.length * 2);
  });

  test('seeded random filters and packets agree with the evaluator', async (t) => {
    if (!requirePrivilege(t)) return;
    const seed = Number(process.env['FILTER_FUZZ_SEED'] ?? 1);
    const target = Number(process.env['FILTER_FUZZ_PAIRS'] ?? 3000);
    const budgetMs = Number(process.env['FILTER_FUZZ_SECONDS'] ?? 600) * 1000;
    const rng = new Rng(seed);
    const tally: Tally = { pairs: 0, matches: 0, exact: 0, residual: 0, problems: [] };
    const started = Date.now();
    let round = 0;
    while (tally.pairs < target && tally.problems.length < 20) {
      assert.ok(Date.now() - started < budgetMs, `random run over its ${budgetMs / 1000} s budget after ${tally.pairs} pairs`);
      const refs = Array.from({ length: 6 }, () => randomPacket(rng));
      const mark = rng.pick([0, 0, DIVERT_MARK, 0x1234]);
      const filter = randomFilter(rng, refs, (f, p, o) => fieldValue(f, p, { outbound: true, mark }, o), 3);
      const packets: Sent[] = [];
      const seen = new Set<string>();
      for (let k = 0; k < 25; k++) {
        const dir: Dir = rng.chance(0.5) ? 'in' : 'out';
        const bytes = rng.chance(0.4) ? refs[k % refs.length]! : randomPacket(rng, { inbound: dir === 'in' });
        const s = { dir, ...keyed(dir, dir === 'in' && !inboundSafe(bytes) ? randomPacket(rng, { inbound: true }) : bytes) };
        if (seen.has(s.key)) continue;
        seen.add(s.key);
        packets.push(s);
      }
      await check(lab, filter, packets, mark, tally, `r${round++}_`);
    }
    t.diagnostic(`seed ${seed}: ${round} filters, ${tally.pairs} pairs: ${tally.matches} match, kernel decided ${tally.exact} exactly, ${tally.residual} went to the residue, ${tally.problems.length} disagreements`);
    assert.deepEqual(tally.problems, []);
  });

  test('each packet is diverted at most once: loopback traffic when it leaves, forwarded traffic when it arrives', async (t) => {
    if (!requirePrivilege(t)) return;
    const [ns, , clientNs] = namespaces!;
    const link = connect(clientNs, ns, 98);
    clientNs.exec('ip', ['route', 'add', '198.18.99.0/24', 'via', link.b4]);
    ns.exec('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    const lowered = lowerFilter('udp', { table: TABLE, setPrefix: 'once_' });
    assert.deepEqual(lowered.hooks, ['prerouting', 'postrouting'], 'no direction: both hooks');
    await lab.install(lowered, 0);
    // A counter behind the rules at postrouting: proof that the forwarded packet passed there.
    const b = lab.conn.batch();
    b.addRule({ family: INET, table: TABLE, chain: 'post', exprs: [
      { type: 'payload', base: NFT_PAYLOAD.NFT_PAYLOAD_NETWORK_HEADER, offset: 16, len: 4, dreg: R1 },
      { type: 'cmp', op: NFT_CMP.NFT_CMP_EQ, sreg: R1, data: Uint8Array.of(198, 18, 99, 2) },
      { type: 'counter', packets: 0, bytes: 0 },
    ] });
    await lab.conn.commit(b);
    // To the namespace's own address: out by lo (postrouting), back in on lo (prerouting).
    const self = buildUdpPacket({ src: '198.18.99.1', dst: '198.18.99.1', srcPort: 7, dstPort: 7, payload: 'loop', ident: 77 });
    lab.clear();
    lab.sendOut(self);
    await lab.sync(100);
    const looped = lab.takeWhere((k) => k.endsWith(Buffer.from(self).toString('hex')));
    assert.deepEqual(looped.map((q) => [q.key.slice(0, 3), lowered.rules[q.rule]!.hook]), [['out', 'postrouting']], 'diverted when it leaves, not when lo receives it');
    assert.equal(compileFilter('outbound and loopback and ifIdx == 1').match(self, { hook: 'postrouting', outIfindex: 1, loopback: true }), true);
    // From the client, through this namespace, to the sink: in by the client's link, out by the sink's.
    const through = buildUdpPacket({ src: link.a4, dst: '198.18.99.2', srcPort: 7, dstPort: 9, payload: 'through', ident: 78 });
    const client = createDivertSocket({ netns: clientNs.name, handleSignals: false });
    try {
      client.sendto(through);
      await lab.sync(200);
    } finally {
      await client.close();
    }
    const tail = Buffer.from(through.subarray(20)).toString('hex');
    const forwarded = lab.takeWhere((k) => k.endsWith(tail));
    assert.deepEqual(forwarded.map((q) => [q.key.slice(0, 2), lowered.rules[q.rule]!.hook]), [['in', 'prerouting']], 'diverted when it arrives, not when it leaves');
    const post = await lab.conn.listRules(INET, TABLE, 'post');
    const counter = post.at(-1)!.exprs.find((e) => e.type === 'counter');
    assert.deepEqual(counter && counter.type === 'counter' ? counter.packets : undefined, 1, 'it did pass postrouting');
  });
});

/** The input path parses hop-by-hop options before prerouting: keep cut-short chains outbound. */
function inboundSafe(b: Uint8Array): boolean {
  if (b[0]! >> 4 !== 6 || b[6] !== 0) return true;
  return b.length >= 48 && b.length >= 40 + (b[41]! + 1) * 8;
}

