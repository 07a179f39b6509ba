/**
 * tcpRewrite against the real kernel: a line-by-line exchange between Node TCP endpoints in their
 * own namespaces, every request grown and every response shrunk (and the reverse) by a divert
 * program, bytes checked line by line at both ends, no reset, retransmissions counted and bounded.
 * With induced loss, a second socket of lower priority drops 5 % of the rewritten segments (the
 * first time only) after the rewrite: the retransmissions must reach it rewritten identically.
 * IPv4 and IPv6; forwarded (a router namespace diverts forward both ways) and local (the client's
 * namespace diverts its output and input).
 */
import { test, describe, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createDivertSocket, type DivertSocket } from '../../src/divert/divert_socket.js';
import type { DivertPacket } from '../../src/divert/divert_packet.js';
import { parsePacket } from '../../src/packet/parse.js';
import { withTcpPayload } from '../../src/packet/tcp_payload.js';
import type { TcpRewriteWarning } from '../../src/seqadj/tracker.js';
import { createNetns, connect, enableForwarding, requirePrivilege, type Netns } from '../_harness/netns.js';
import { divertRules } from '../_harness/ruleset.js';

const EXCHANGE = new URL('../_harness/tcp_exchange.js', import.meta.url).pathname;
/** The mark the rewriting program gives a segment the loss socket must drop (clear of DIVERT_MARK). */
const LOSS_MARK = 0x1000;
let nextPort = 47100;
let nextSubnet = 120;
let nextQueue = 760;

interface Topology {
  /** Where the divert sockets are. */
  divert: Netns;
  client: Netns;
  server: Netns;
  /** The server's address as the client dials it. */
  host: string;
  rules: (port: number) => string[];
}

const six = (family: 4 | 6): string => (family === 6 ? ' -6' : '');

/** The endpoints write each message's word in a segment of its own: no autocorking of it with the body. */
function endpoint(ns: Netns): Netns {
  ns.exec('sysctl', ['-qw', 'net.ipv4.tcp_autocorking=0']);
  return ns;
}

function forwarded(family: 4 | 6): Topology {
  const client = endpoint(createNetns());
  const router = createNetns();
  const server = endpoint(createNetns());
  const left = connect(client, router, nextSubnet++);
  const right = connect(router, server, nextSubnet++);
  enableForwarding(router);
  client.exec('ip', ['route', 'add', 'default', 'via', left.b4]);
  server.exec('ip', ['route', 'add', 'default', 'via', right.a4]);
  client.exec('ip', ['-6', 'route', 'add', 'default', 'via', left.b6]);
  server.exec('ip', ['-6', 'route', 'add', 'default', 'via', right.a6]);
  return {
    divert: router, client, server, host: family === 4 ? right.b4 : right.b6,
    rules: (port) => [`-A forward -p tcp --dport ${port}${six(family)}`, `-A forward -p tcp --sport ${port}${six(family)}`],
  };
}

function local(family: 4 | 6): Topology {
  const client = endpoint(createNetns());
  const server = endpoint(createNetns());
  const link = connect(client, server, nextSubnet++);
  return {
    divert: client, client, server, host: family === 4 ? link.b4 : link.b6,
    rules: (port) => [`-A output -p tcp --dport ${port}${six(family)}`, `-A input -p tcp --sport ${port}${six(family)}`],
  };
}

interface EndResult {
  lines: number;
  errors: string[];
  reset: boolean;
}

/** Runs one end of the exchange in `ns`; resolves with its JSON result (or the way it failed). */
function runEnd(ns: Netns, args: string[], timeoutMs: number): { ready: Promise<void>; result: Promise<EndResult> } {
  const child = ns.spawn(process.execPath, [EXCHANGE, ...args]);
  let out = '';
  let err = '';
  let readyResolve!: () => void;
  const ready = new Promise<void>((r) => (readyResolve = r));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('ready\n')) readyResolve();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 5000);
  const result = new Promise<EndResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      readyResolve();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      resolve(line ? (JSON.parse(line) as EndResult) : { lines: 0, errors: [`${args[0]} exited ${code ?? signal} without a result: ${err.trim().slice(-300)}`], reset: false });
    });
  });
  return { ready, result };
}

interface Words {
  /** The client's word, and what the server must get instead. */
  request: [string, string];
  /** The server's word, and what the client must get instead. */
  response: [string, string];
}

const GROW_SHRINK: Words = { request: ['ask', 'ask-grown-by-quite-a-few-bytes'], response: ['answer-in-its-long-form', 'ans'] };
const SHRINK_GROW: Words = { request: ['question-in-a-long-form', 'q'], response: ['re', 'reply-grown-much-longer-than-it-was'] };

const key = (p: DivertPacket): string | undefined => {
  const q = parsePacket(p.packet);
  return q.tcp && q.payload.length > 0 ? `${q.tcp.srcPort}>${q.tcp.dstPort}:${q.tcp.seqNum}` : undefined;
};

/** The rewriting program: the word at the start of a segment replaced; 1 rewrite in 20 marked for loss (the first time). */
async function rewriter(sock: DivertSocket, port: number, words: Words, loss: boolean, stats: { rewrites: number; retransmissions: number; marked: Set<string>; largest: number; gso: number }): Promise<void> {
  const seen = new Set<string>();
  const decoder = new TextDecoder('latin1');
  const log: string[] = [];
  for await (const p of sock) {
    const q = parsePacket(p.packet);
    const k = key(p);
    stats.largest = Math.max(stats.largest, p.packet.length);
    if (p.address.gso) stats.gso++;
    if (process.env['TCP_REWRITE_DEBUG']) log.push(`${q.tcp!.srcPort}>${q.tcp!.dstPort} seq ${q.tcp!.seqNum} len ${q.payload.length} ack ${q.tcp!.ackNum} flags ${q.tcp!.flags.toString(16)} mark ${p.address.mark}`);
    if (log.length > 40) log.shift();
    const repeat = k !== undefined && seen.has(k);
    if (k !== undefined) {
      if (repeat) stats.retransmissions++;
      seen.add(k);
    }
    const [from, to] = q.tcp!.dstPort === port ? words.request : words.response;
    const text = decoder.decode(q.payload);
    if (!text.startsWith(`${from}:`)) {
      p.reinject();
      continue;
    }
    const payload = Buffer.from(to + text.slice(from.length), 'latin1');
    const bytes = withTcpPayload(p.packet, payload);
    if (repeat) {
      try {
        p.reinject(bytes); // a retransmission, rewritten the same way (divert checks it is the same)
      } catch (err) {
        if (log.length) console.error(log.join('\n'));
        throw err;
      }
      continue;
    }
    stats.rewrites++;
    if (loss && stats.rewrites % 20 === 7) {
      stats.marked.add(k!);
      p.reinject(bytes, { mark: LOSS_MARK });
    } else p.reinject(bytes);
  }
}

/** The lossy link after the rewriter: drops what it marked, checks that a segment sent again carries the same bytes. */
async function lossyLink(sock: DivertSocket, stats: { dropped: Set<string>; resentIdentically: number; resentOtherwise: string[]; resets: number }): Promise<void> {
  const first = new Map<string, Uint8Array>();
  for await (const p of sock) {
    const q = parsePacket(p.packet);
    if (q.tcp!.rst) stats.resets++;
    const k = key(p);
    if (k !== undefined) {
      const before = first.get(k);
      if (before === undefined) first.set(k, q.payload.slice());
      else if (Buffer.compare(before, q.payload) === 0) {
        if (stats.dropped.has(k)) stats.resentIdentically++;
      } else if (stats.resentOtherwise.length < 5) stats.resentOtherwise.push(`${k}: ${before.length} bytes first, ${q.payload.length} again`);
    }
    if ((p.address.mark & LOSS_MARK) !== 0) {
      stats.dropped.add(k!);
      p.drop();
    } else p.reinject();
  }
}

async function exchange(t: TestContext, topo: Topology, words: Words, options: { count: number; loss: boolean; oneWrite?: boolean }): Promise<void> {
  const port = nextPort++;
  const timeoutMs = 40_000;
  const rw = { rewrites: 0, retransmissions: 0, marked: new Set<string>(), largest: 0, gso: 0 };
  const link = { dropped: new Set<string>(), resentIdentically: 0, resentOtherwise: [] as string[], resets: 0 };
  const sock = createDivertSocket({ port: nextQueue++, netns: topo.divert.name, rules: topo.rules(port), priority: 10, tcpRewrite: true });
  const warnings: unknown[] = [];
  sock.on('tcpRewriteWarning', (w) => warnings.push(w));
  // Without loss the second socket still runs: it counts resets and compares retransmissions.
  const lossy = createDivertSocket({ port: nextQueue++, netns: topo.divert.name, rules: topo.rules(port), priority: 0 });
  try {
    await sock.ready;
    await lossy.ready;
    const loops = [rewriter(sock, port, words, options.loss, rw), lossyLink(lossy, link)];
    const fam = topo.host.includes(':') ? '6' : '4';
    const one = options.oneWrite ? ['one'] : [];
    const server = runEnd(topo.server, ['server', fam, String(port), words.request[1], words.response[0], String(options.count), String(timeoutMs), ...one], timeoutMs);
    await server.ready;
    const client = runEnd(topo.client, ['client', topo.host, String(port), words.request[0], words.response[1], String(options.count), String(timeoutMs), ...one], timeoutMs);
    const [c, s] = await Promise.all([client.result, server.result]);
    assert.deepEqual(c.errors, [], 'the client got every response as rewritten');
    assert.deepEqual(s.errors, [], 'the server got every request as rewritten');
    assert.equal(c.lines, options.count);
    assert.equal(s.lines, options.count);
    assert.equal(c.reset || s.reset, false, 'no reset');
    assert.equal(link.resets, 0, 'no RST on the wire');
    assert.equal(rw.rewrites, 2 * options.count, 'every request and every response rewritten once');
    assert.deepEqual(link.resentOtherwise, [], 'a segment sent again carries the same bytes');
    assert.deepEqual(warnings, []);
    // Per segment: no GSO/GRO super-packet (3000-byte writes would make them), none over the 1500-byte MTU.
    assert.equal(rw.gso, 0);
    assert.ok(rw.largest <= 1500, `largest packet diverted: ${rw.largest} bytes`);
    if (options.loss) {
      assert.ok(link.dropped.size >= Math.floor((2 * options.count) / 20), `about 5 % lost (${link.dropped.size})`);
      // (The link sees the segments in the receiver's numbering, the program in the sender's.)
      assert.equal(link.dropped.size, rw.marked.size, 'every marked segment was lost, once');
      assert.equal(link.resentIdentically, link.dropped.size, 'each lost rewritten segment came again, rewritten identically');
      assert.ok(rw.retransmissions >= link.dropped.size && rw.retransmissions <= 3 * link.dropped.size + 5, `retransmissions ${rw.retransmissions} for ${link.dropped.size} losses`);
    } else {
      // No loss, but a slow moment of this process can let a tail-loss probe or an RTO fire.
      assert.ok(rw.retransmissions <= options.count / 4, `retransmissions without loss: ${rw.retransmissions}`);
    }
    if (options.oneWrite) assert.ok(sock.stats.injected > 0, 'full-size segments grown: split, the rest injected');
    else assert.equal(sock.stats.injected, 0, 'nothing split');
    t.diagnostic(`${options.count} exchanges, ${rw.rewrites} rewrites, ${link.dropped.size} lost, ${rw.retransmissions} retransmissions (${link.resentIdentically} of lost ones seen rewritten identically), ${sock.stats.injected} split segments injected`);
    await Promise.all([sock.close(), lossy.close()]);
    await Promise.all(loops);
    for (const st of [sock.stats, lossy.stats]) {
      assert.equal(st.received, st.accepted + st.changed + st.dropped + st.repeated + st.requeued + st.timedOut + st.closedWithVerdict + st.filtered + st.held);
      assert.equal(st.timedOut, 0);
    }
    assert.deepEqual(await divertRules(topo.divert), [], 'no rule left');
  } finally {
    await Promise.all([sock.close().catch(() => {}), lossy.close().catch(() => {})]);
  }
}

describe('tcpRewrite (real kernel, Node TCP endpoints)', () => {
  test('only one direction diverted: the retransmitted rewrite raises tcpRewriteWarning once, naming the flow', async (t) => {
    if (!requirePrivilege(t)) return;
    const topo = local(4);
    const port = nextPort++;
    // Output only: the server's ACKs of the grown request never reach the socket.
    await using sock = createDivertSocket({ port: nextQueue++, netns: topo.divert.name, rules: [`-A output -p tcp --dport ${port}`], tcpRewrite: true });
    await sock.ready;
    const warnings: TcpRewriteWarning[] = [];
    sock.on('tcpRewriteWarning', (w: TcpRewriteWarning) => warnings.push(w));
    const loop = rewriter(sock, port, GROW_SHRINK, false, { rewrites: 0, retransmissions: 0, marked: new Set(), largest: 0, gso: 0 });
    const server = runEnd(topo.server, ['server', '4', String(port), GROW_SHRINK.request[1], GROW_SHRINK.response[0], '1', '4000'], 4000);
    await server.ready;
    const client = runEnd(topo.client, ['client', topo.host, String(port), GROW_SHRINK.request[0], GROW_SHRINK.response[1], '1', '4000'], 4000);
    const deadline = Date.now() + 4000;
    while (warnings.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(warnings.length, 1, 'warned');
    assert.equal(warnings[0]!.code, 'ERR_DIVERT_TCP_ONE_DIRECTION');
    assert.match(warnings[0]!.flow, new RegExp(`^${topo.host.replaceAll('.', '\\.').replace(/\.2$/, '.1')}:\\d+ > ${topo.host.replaceAll('.', '\\.')}:${port}$`));
    assert.match(warnings[0]!.message, /Both directions of a rewritten flow must reach the same socket/);
    await Promise.all([client.result, server.result]); // both time out: the flow cannot go on
    await sock.close();
    await loop;
    assert.equal(warnings.length, 1, 'once per flow');
  });

  for (const family of [4, 6] as const) {
    for (const [where, make] of [['forwarded', forwarded], ['local', local]] as const) {
      test(`IPv${family} ${where}: requests grow, responses shrink, 120 messages`, async (t) => {
        if (!requirePrivilege(t)) return;
        await exchange(t, make(family), GROW_SHRINK, { count: 120, loss: false });
      });
      test(`IPv${family} ${where}: requests shrink, responses grow, 120 messages`, async (t) => {
        if (!requirePrivilege(t)) return;
        await exchange(t, make(family), SHRINK_GROW, { count: 120, loss: false });
      });
      test(`IPv${family} ${where}: 5 % of rewritten segments lost once, retransmitted rewritten identically`, async (t) => {
        if (!requirePrivilege(t)) return;
        await exchange(t, make(family), GROW_SHRINK, { count: 80, loss: true });
      });
      for (const [what, words] of [['requests', GROW_SHRINK], ['responses', SHRINK_GROW]] as const) {
        test(`IPv${family} ${where}: messages in one write: full-size ${what} grown past the MSS are split, 60 messages`, async (t) => {
          if (!requirePrivilege(t)) return;
          await exchange(t, make(family), words, { count: 60, loss: false, oneWrite: true });
        });
      }
    }
  }
});
