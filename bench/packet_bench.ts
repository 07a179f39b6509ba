/**
 * Micro-benchmark for the per-packet hot paths of `divert/packet`: `parsePacket`, `fillChecksums`
 * and an RFC 1624 incremental update, on a 64-byte-payload UDP/IPv4 packet, then
 * `Reassembler.push` per fragment of a 64 KiB datagram. Self-timed with `performance.now()` (no
 * dependencies): a warm-up, then ~1e6 iterations per case (1e5 for reassembly).
 * Run: `npx tsc -p . && node dist/bench/packet_bench.js`. Compare numbers from one machine only.
 * @module
 */
import { pathToFileURL } from 'node:url';
import { Reassembler, fillChecksums, fragmentPacket, parsePacket, updateChecksum16 } from '../src/packet/mod.js';

/** One measured case. */
export interface BenchResult {
  name: string;
  nsPerOp: number;
  iterations: number;
}

/** A UDP/IPv4 packet 198.18.0.1:5353 > 198.18.0.2:53 with 64 payload bytes, checksums filled. */
function udpPacket(): Uint8Array {
  const b = new Uint8Array(20 + 8 + 64);
  b.set([0x45, 0, 0, b.length, 0x12, 0x34, 0x40, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2]);
  b.set([0x14, 0xe9, 0, 53, 0, 8 + 64, 0, 0], 20);
  for (let i = 28; i < b.length; i++) b[i] = i;
  fillChecksums(b);
  return b;
}

/**
 * The fragments (MTU 1500, 45 each) of 16 UDP/IPv4 datagrams of 65535 bytes with distinct
 * Identifications, each datagram's fragments in reverse order (the worst order for an append).
 */
function fragments(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let id = 0; id < 16; id++) {
    const b = new Uint8Array(65535);
    b.set([0x45, 0, 0xff, 0xff, 0, id, 0, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2]);
    b.set([0x14, 0xe9, 0, 53, 0xff, 0xeb, 0, 0], 20);
    out.push(...fragmentPacket(b, 1500).reverse());
  }
  return out;
}

let sink = 0; // keeps results alive so the JIT cannot drop the work

function measure(name: string, iterations: number, fn: (i: number) => number): BenchResult {
  for (let i = 0; i < Math.min(iterations, 100_000); i++) sink ^= fn(i); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) sink ^= fn(i);
  const ns = ((performance.now() - t0) * 1e6) / iterations;
  return { name, nsPerOp: ns, iterations };
}

/** Run every case, print `name: N ns/op`, and return the results. */
export async function main(iterations = 1_000_000): Promise<BenchResult[]> {
  const pkt = udpPacket();
  const results = [
    measure('parsePacket (UDP/IPv4, 64 B payload)', iterations, () => parsePacket(pkt).udp!.dstPort),
    measure('fillChecksums (UDP/IPv4, 64 B payload)', iterations, () => {
      fillChecksums(pkt);
      return pkt[26]!;
    }),
    measure('updateChecksum16', iterations, (i) => updateChecksum16(0x1c46, i & 0xffff, (i * 7) & 0xffff)),
  ];
  const frags = fragments();
  const r = new Reassembler();
  results.push(measure('Reassembler.push (64 KiB UDP/IPv4, per 1500 B fragment)', Math.ceil(iterations / 10), (i) => {
    return r.push(frags[i % frags.length]!, 0)?.length ?? 0;
  }));
  for (const r of results) console.log(`${r.name}: ${r.nsPerOp.toFixed(1)} ns/op (${r.iterations} iterations)`);
  if (sink === 0.5) console.log(sink); // never true; reads the sink
  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
