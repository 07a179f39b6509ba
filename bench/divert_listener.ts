/**
 * The divert side of the throughput bench: one listener through the public API, the same jobs as
 * bench/c/nfq_listener.c's loops.
 *
 * usage: node dist/bench/divert_listener.js <api> <action> <port> <gso 1|0|-> <warmup s> <seconds>
 *   api      iterator  `for await (const p of sock)`
 *            handler   `sock.onPacket((p) => …)`, called synchronously per packet
 *            recvfrom  the seed's loop: `const { packet, address } = await sock.recvfrom(); sock.sendto(packet, address)`
 *            workers   `createDivertSocket({ port: 'a:b', worker })`: bench/mq_handler.ts in a worker thread per queue
 *   action   accept | mangle (flip the last byte, reinject: checksums made right) | drop
 *   gso      1 passes `gso: true`, 0 `gso: false`, - leaves the socket's default
 * Prints "ready" once its queue is bound, then measures a window of <seconds> starting <warmup>
 * after the first packet, and prints the line bench/listener_result.ts reads (packets counted
 * from sock.stats, CPU of the whole process: worker threads included). When the API it needs is
 * missing it prints "skipped: <api> not available yet (<why>)" and ends.
 */
import { createDivertSocket, type DivertPacket, type DivertSocket, type DivertSocketOptions } from '../src/mod.js';
import { queueTotals, readNfqueueProc } from './nfq_proc.js';

const [api = 'iterator', action = 'accept', portSpec = '0', gso = '-', warmupArg = '0.5', secondsArg = '2'] = process.argv.slice(2);
const warmupMs = Number(warmupArg) * 1000;
const seconds = Number(secondsArg);
const [lo, hi = lo] = portSpec.split(':').map(Number) as [number, number?];
const queues = Array.from({ length: hi! - lo + 1 }, (_, i) => lo + i);

/** The API this bench is written against, ahead of the library where it is not there yet. */
type Handler = (p: DivertPacket) => void;
interface WithHandler { onPacket?: (handler: Handler) => void }

function skip(what: string, why: string): never {
  process.stdout.write(`skipped: ${what} not available yet (${why})\n`);
  process.exit(0);
}

const act: Handler = action === 'drop'
  ? (p) => p.drop()
  : action === 'mangle'
    ? (p) => {
        p.packet[p.packet.length - 1]! ^= 1;
        p.reinject();
      }
    : (p) => p.reinject();

function open(): DivertSocket {
  const options: DivertSocketOptions = { verdictTimeoutMs: 0, handleSignals: false, ...(gso === '-' ? {} : { gso: gso === '1' }) };
  if (api !== 'workers') return createDivertSocket({ ...options, port: lo });
  const worker = new URL('./mq_handler.js', import.meta.url);
  try {
    return createDivertSocket({ ...options, port: portSpec, worker } as unknown as DivertSocketOptions);
  } catch (err) {
    skip(`createDivertSocket({ port: '${portSpec}', worker })`, (err as Error).message);
  }
}

const sock = open();
await sock.ready;
let serving: Promise<void> = Promise.resolve();
if (api === 'handler') {
  const onPacket = (sock as unknown as WithHandler).onPacket;
  if (typeof onPacket !== 'function') skip('sock.onPacket()', 'DivertSocket has no onPacket method');
  onPacket.call(sock, act);
} else if (api === 'iterator') {
  serving = (async () => {
    for await (const p of sock) act(p);
  })();
} else if (api === 'recvfrom') {
  serving = (async () => {
    for (;;) {
      const { packet, address } = await sock.recvfrom();
      sock.sendto(packet, address);
    }
  })().catch(() => undefined); // recvfrom rejects once the socket closes
} else if (api !== 'workers') {
  throw new Error(`unknown api ${api}: iterator, handler, recvfrom or workers`);
}

const cpuUs = (): number => {
  const c = process.cpuUsage();
  return c.user + c.system;
};
const verdicted = (): number => {
  const s = sock.stats;
  return s.accepted + s.changed + s.dropped;
};
process.stdout.write('ready\n');

// Poll for the first packet (the same for every API, and off the packet path), then the window.
const waitStart = performance.now();
const poll = setInterval(() => {
  if (sock.stats.received === 0) {
    if (performance.now() - waitStart > 10_000) void finish(undefined);
    return;
  }
  clearInterval(poll);
  setTimeout(() => {
    const before = { t: performance.now(), cpu: cpuUs(), packets: verdicted(), q: queueTotals(readNfqueueProc(), queues) };
    setTimeout(() => void finish(before), seconds * 1000);
  }, warmupMs);
}, 20);

async function finish(before: { t: number; cpu: number; packets: number; q: ReturnType<typeof queueTotals> } | undefined): Promise<void> {
  clearInterval(poll);
  const lines = readNfqueueProc();
  const q = queueTotals(lines, queues);
  // Packets queued per queue since it was bound: every queue of a range should have some.
  const served = queues.map((n) => `${n}:${lines.find((l) => l.queue === n)?.idSequence ?? 0}`).join(',');
  const r = before
    ? `packets=${verdicted() - before.packets} seconds=${((performance.now() - before.t) / 1000).toFixed(3)} cpu_us=${cpuUs() - before.cpu} qdrop=${q.queueDropped - before.q.queueDropped} udrop=${q.userDropped - before.q.userDropped} offered=${q.idSequence - before.q.idSequence + q.queueDropped - before.q.queueDropped}`
    : 'packets=0 seconds=0 cpu_us=0 qdrop=0 udrop=0 offered=0';
  process.stdout.write(`${r} api=${api} served=${served}\n`);
  await sock.close();
  await serving;
  process.exit(0);
}
