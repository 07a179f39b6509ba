/**
 * DivertPacket: one packet taken out of the kernel's path, held until it gets its verdict.
 *
 * `packet` is the packet's own copy of the bytes: change it in place, or pass other bytes to
 * `reinject()`. Exactly one verdict per packet: `reinject()`, `drop()`, `repeat()` or
 * `queue(port)`; a second one throws. A packet left without a verdict for `verdictTimeoutMs`
 * gets the socket's default verdict and is counted in `stats.timedOut`.
 * @module
 */
import type { DivertAddress } from './address.js';
import { DivertError } from '../errors.js';

export type VerdictKind = 'accept' | 'drop' | 'repeat' | 'queue';

export interface ReinjectOptions {
  /** Recompute IP/TCP/UDP/ICMP checksums of changed bytes (default: the socket's `fillChecksums`, true). */
  fillChecksums?: boolean | undefined;
  /** Set the packet's firewall mark. */
  mark?: number | undefined;
  /**
   * Send the packet by this interface (name or index) instead of its own path: an outbound
   * multicast packet leaves by it (the seed's IP_MULTICAST_IF), an inbound packet enters as if
   * received on it. The original is dropped and the bytes are injected (see sendto()).
   */
  interface?: string | number | undefined;
}

/** What the socket does with a verdict; implemented by DivertSocket. */
export interface VerdictSink {
  settle(p: DivertPacket, kind: VerdictKind, bytes: Uint8Array | undefined, options: ReinjectOptions & { port?: number }): void;
}

export class DivertPacket {
  /** The packet's bytes, starting at the IP header. Yours to read and change until the verdict. */
  readonly packet: Uint8Array;
  /** Where the packet was taken (see DivertAddress). */
  readonly address: DivertAddress;
  /** The kernel's packet id within its queue. */
  readonly id: number;
  /** When the packet arrived in user space (performance.now() ms), for the verdict timeout. */
  readonly receivedAt: number;
  /** The bytes as received, to tell whether the program changed them. */
  readonly original: Uint8Array;

  #sink: VerdictSink;
  #verdict: VerdictKind | undefined;

  constructor(sink: VerdictSink, id: number, packet: Uint8Array, original: Uint8Array, address: DivertAddress, receivedAt: number) {
    this.#sink = sink;
    this.id = id;
    this.packet = packet;
    this.original = original;
    this.address = address;
    this.receivedAt = receivedAt;
  }

  /** The verdict given so far, or undefined while the packet is still held. */
  get verdict(): VerdictKind | undefined {
    return this.#verdict;
  }

  /** Whether `packet` differs from the bytes received. */
  get changed(): boolean {
    return !bytesEqual(this.packet, this.original);
  }

  /**
   * Puts the packet back where it was taken: unchanged bytes go back as a plain ACCEPT (no copy),
   * changed ones (or `bytes`) with their checksums made right.
   */
  reinject(bytes?: Uint8Array, options: ReinjectOptions = {}): void {
    if (this.address.truncated && this.#verdict === undefined && (bytes !== undefined || this.changed)) {
      throw new DivertError(
        `Packet ${this.id} holds only ${this.packet.length} of its ${this.address.originalLength} bytes (copyRange): ` +
          'it can be reinjected unchanged or dropped, not changed',
        'ERR_DIVERT_TRUNCATED',
      );
    }
    checkOptions(options, bytes);
    this.#take('accept');
    this.#sink.settle(this, 'accept', bytes, options);
  }

  /** Drops the packet (the seed's "not sending it back"). */
  drop(): void {
    this.#take('drop');
    this.#sink.settle(this, 'drop', undefined, {});
  }

  /** Runs the same netfilter hook again (NF_REPEAT); mark the packet or it comes straight back. */
  repeat(options: ReinjectOptions = {}): void {
    checkOptions(options, undefined);
    this.#take('repeat');
    this.#sink.settle(this, 'repeat', undefined, options);
  }

  /** Hands the packet to another divert port (NF_QUEUE_NR); with no listener there it is dropped. */
  queue(port: number, options: ReinjectOptions = {}): void {
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(`Divert port must be an integer from 0 to 65535, got ${String(port)}`);
    }
    checkOptions(options, undefined);
    this.#take('queue');
    this.#sink.settle(this, 'queue', undefined, { ...options, port });
  }

  /** Used by the socket for automatic verdicts (timeout, close). */
  settleAutomatically(kind: 'accept' | 'drop'): boolean {
    if (this.#verdict !== undefined) return false;
    this.#verdict = kind;
    this.#sink.settle(this, kind, undefined, {});
    return true;
  }

  #take(kind: VerdictKind): void {
    if (this.#verdict !== undefined) {
      throw new DivertError(
        `Packet ${this.id} already has its verdict (${this.#verdict}); each packet takes exactly one`,
        'ERR_DIVERT_VERDICT_TWICE',
      );
    }
    this.#verdict = kind;
  }
}

/** The most bytes a verdict can carry (NFQA_PAYLOAD: a 16-bit attribute length). */
const MAX_PAYLOAD = 65531;

/** Refuses bad options before the verdict is taken, so the packet stays held and the caller hears why. */
function checkOptions(options: ReinjectOptions, bytes: Uint8Array | undefined): void {
  const mark = options.mark;
  if (mark !== undefined && !(Number.isInteger(mark) && mark >= 0 && mark <= 0xffffffff)) {
    throw new RangeError(`Mark must be an integer from 0 to 4294967295 (use mark >>> 0 for a negative int32), got ${String(mark)}`);
  }
  if (bytes !== undefined && bytes.length > MAX_PAYLOAD) {
    throw new RangeError(`A reinjected packet can be at most ${MAX_PAYLOAD} bytes, got ${bytes.length}`);
  }
  const via = options.interface;
  if (via !== undefined && !(typeof via === 'string' ? via.length > 0 : Number.isInteger(via) && via > 0)) {
    throw new TypeError(`interface must be a name or a positive index, got ${JSON.stringify(via)}`);
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.compare(
    Buffer.from(a.buffer, a.byteOffset, a.length),
    Buffer.from(b.buffer, b.byteOffset, b.length),
  ) === 0;
}
