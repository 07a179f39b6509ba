/**
 * DivertPacket: one packet taken out of the kernel's path, held until it gets its verdict.
 *
 * `packet` is the packet's own copy of the bytes: change it in place, or pass other bytes to
 * `reinject()`. Exactly one verdict per packet: `reinject()`, `drop()`, `repeat()` or
 * `queue(port)`; a second one throws. A packet left without a verdict for `verdictTimeoutMs`
 * gets the socket's default verdict and is counted in `stats.timedOut`.
 *
 * NB: a verdict call checks everything (its arguments, the bytes it would send, an injection by
 * interface) before it records anything. When it throws, the packet is still held with no
 * verdict: the caller may fix the bytes and try again, or call another verdict, and the timeout
 * and close still cover it.
 * @module
 */
import { DivertAddress, setHeldPacket } from './address.js';
import type { PacketMeta } from '../nfqueue/packet_msg.js';
import { DivertError } from '../errors.js';
import { show } from './options.js';

/** The verdict a packet got: reinject() is `accept`; drop(), repeat(), queue(port). */
export type VerdictKind = 'accept' | 'drop' | 'repeat' | 'queue';

/** Why a verdict was given without the program: its time ran out, the socket closed, or it did not match the filter. */
export type AutoReason = 'timeout' | 'close' | 'filtered';

/** Options of a verdict: reinject(), repeat() and queue() take them. */
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

/** @internal What the socket does with a verdict; implemented by DivertSocket. */
export interface VerdictSink {
  /**
   * The bytes a reinjection sends (checked, checksums filled), or undefined for "unchanged".
   * Throws, recording nothing, when they cannot be sent.
   */
  prepare(p: DivertPacket, bytes: Uint8Array | undefined, options: ReinjectOptions): Uint8Array | undefined;
  /** Injects `bytes` by `options.interface` in place of the packet; throws, recording nothing, on failure. */
  injectVia(p: DivertPacket, bytes: Uint8Array, options: ReinjectOptions): void;
  /**
   * Sends the verdict; never throws. `payload` comes from prepare(); `via` says injectVia() took
   * the bytes; `port` is queue()'s. (Positional, not one options object: no object per verdict.)
   */
  settle(p: DivertPacket, kind: VerdictKind, payload: Uint8Array | undefined, options: ReinjectOptions, auto?: AutoReason, via?: boolean, port?: number): void;
  /** The address of a packet received with `meta` (IP version `family`), made when first read. */
  addressOf?(meta: PacketMeta, family: 4 | 6): DivertAddress;
}

/**
 * One diverted packet, held until its verdict: change `packet` in place and reinject(), or drop(),
 * repeat(), queue(port). Packets come from the socket (`recvfrom()`, `for await`).
 */
export class DivertPacket {
  /**
   * The packet's bytes, starting at the IP header. Yours to read and change until the verdict.
   * NB: a view into a buffer shared with other packets (as Node's pooled Buffers are): use it,
   * or `packet.byteOffset` with `packet.buffer`, never `packet.buffer` alone.
   */
  readonly packet: Uint8Array;
  /** The kernel's packet id within its queue. */
  readonly id: number;
  /** When the packet arrived in user space (performance.now() ms), for the verdict timeout. */
  readonly receivedAt: number;
  #original: Uint8Array;
  /** Set once the original is let go (see releaseOriginal): whether the bytes had changed then. */
  #changedAtRelease: boolean | undefined;
  #sink: VerdictSink;
  #verdict: VerdictKind | undefined;
  /** @internal In its socket's held packets (see HeldPackets). */
  held = false;

  /** The address, once made; until then the sink makes it from #meta. */
  #address: DivertAddress | undefined;
  /** What the kernel said of the packet, kept to make the address when it is first read. */
  #meta: PacketMeta | undefined;
  #family: 4 | 6;
  /** The copy is shorter than the packet (copyRange): address.truncated, known without the address. */
  #truncated: boolean;

  /**
   * @internal Made by the socket for each packet it receives. `address` is the address, or the
   * kernel's metadata to make it from when first read (with the packet's IP version `family`).
   */
  constructor(sink: VerdictSink, id: number, packet: Uint8Array, original: Uint8Array, address: DivertAddress | PacketMeta, receivedAt: number, truncated?: boolean, family: 4 | 6 = 4) {
    this.#sink = sink;
    this.id = id;
    this.packet = packet;
    this.#original = original;
    if (address instanceof DivertAddress) this.#address = address;
    else this.#meta = address;
    this.#family = family;
    this.#truncated = truncated ?? (this.#address?.truncated ?? false);
    this.receivedAt = receivedAt;
  }

  /**
   * Where the packet was taken (see DivertAddress), made when first read: the interface names and
   * addresses are the link table's at that moment (the same tick the packet came, in a program
   * that reads it at once). While the packet is held, its address leads the socket's sendto()
   * back to it.
   */
  get address(): DivertAddress {
    let a = this.#address;
    if (a === undefined) {
      a = this.#sink.addressOf!(this.#meta!, this.#family);
      this.#address = a;
      this.#meta = undefined;
      if (this.held) setHeldPacket(a, this);
    }
    return a;
  }

  /** @internal The verdict went out: the address (if made) no longer leads back here. */
  unlinkAddress(): void {
    if (this.#address !== undefined) setHeldPacket(this.#address, undefined);
  }

  /** @internal Whether the packet came to the socket whose verdict sink is `sink`. */
  cameTo(sink: VerdictSink): boolean {
    return this.#sink === sink;
  }

  /** The verdict given so far, or undefined while the packet is still held. */
  get verdict(): VerdictKind | undefined {
    return this.#verdict;
  }

  /** The bytes as received, to tell whether the program changed them (while the packet is held). */
  get original(): Uint8Array {
    return this.#original;
  }

  /** Whether `packet` differs from the bytes received (after the verdict: whether it did then). */
  get changed(): boolean {
    return this.#changedAtRelease ?? !bytesEqual(this.packet, this.#original);
  }

  /**
   * @internal The original of a large packet is a view into the socket's receive arena, which
   * the next read overwrites; the socket calls this before that read. A held packet gets its
   * own copy; one with its verdict keeps only whether it had changed.
   */
  releaseOriginal(): void {
    if (this.#verdict === undefined) this.#original = this.#original.slice();
    else {
      this.#changedAtRelease = !bytesEqual(this.packet, this.#original);
      this.#original = EMPTY;
    }
  }

  /**
   * Puts the packet back where it was taken: unchanged bytes go back as a plain ACCEPT (no copy),
   * changed ones (or `bytes`) with their checksums made right.
   * @throws {TypeError|RangeError} for bad arguments; {@link PacketError} when the bytes are not a
   *   whole IP packet; a DivertError when the packet is truncated or was answered already. In
   *   every case the packet stays held without a verdict (unless it had one already).
   */
  reinject(bytes?: Uint8Array, options: ReinjectOptions = NO_OPTIONS): void {
    this.#mustBeHeld();
    if (bytes !== undefined && !(bytes instanceof Uint8Array)) throw new TypeError(`reinject() takes the packet's new bytes as a Uint8Array (or nothing), got ${show(bytes)}`);
    checkOptions(options, bytes);
    if (this.#truncated && (bytes !== undefined || this.changed)) {
      throw new DivertError(
        `Packet ${this.id} holds only ${this.packet.length} of its ${this.address.originalLength} bytes (copyRange): ` +
          'it can be reinjected unchanged or dropped, not changed',
        'ERR_DIVERT_TRUNCATED',
      );
    }
    const payload = this.#sink.prepare(this, bytes, options);
    const via = options.interface !== undefined;
    if (via) this.#sink.injectVia(this, payload ?? this.packet, options);
    this.#verdict = 'accept';
    this.#sink.settle(this, 'accept', payload, options, undefined, via);
  }

  /** Drops the packet (the seed's "not sending it back"). */
  drop(): void {
    this.#mustBeHeld();
    this.#verdict = 'drop';
    this.#sink.settle(this, 'drop', undefined, NO_OPTIONS);
  }

  /** Runs the same netfilter hook again (NF_REPEAT); mark the packet or it comes straight back. */
  repeat(options: ReinjectOptions = {}): void {
    this.#mustBeHeld();
    checkOptions(options, undefined);
    if (options.interface !== undefined) throw new TypeError('repeat() cannot take an interface: the packet stays on its path');
    this.#verdict = 'repeat';
    this.#sink.settle(this, 'repeat', undefined, options);
  }

  /** Hands the packet to another divert port (NF_QUEUE_NR); with no listener there it is dropped. */
  queue(port: number, options: ReinjectOptions = {}): void {
    this.#mustBeHeld();
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(`Divert port must be an integer from 0 to 65535, got ${show(port)}`);
    }
    checkOptions(options, undefined);
    if (options.interface !== undefined) throw new TypeError('queue() cannot take an interface: the packet goes to another port');
    this.#verdict = 'queue';
    this.#sink.settle(this, 'queue', undefined, options, undefined, false, port);
  }

  /**
   * @internal Used by the socket for automatic verdicts (timeout, close); false when the packet
   * already had its verdict.
   */
  settleAutomatically(kind: 'accept' | 'drop', reason: AutoReason): boolean {
    if (this.#verdict !== undefined) return false;
    this.#verdict = kind;
    this.#sink.settle(this, kind, undefined, NO_OPTIONS, reason);
    return true;
  }

  #mustBeHeld(): void {
    if (this.#verdict !== undefined) {
      throw new DivertError(
        `Packet ${this.id} already has its verdict (${this.#verdict}); each packet takes exactly one`,
        'ERR_DIVERT_VERDICT_TWICE',
      );
    }
  }
}

const EMPTY = new Uint8Array(0);
/** The options of a verdict given none (shared: no object per packet). */
const NO_OPTIONS: ReinjectOptions = Object.freeze({});

/** The most bytes a verdict can carry (NFQA_PAYLOAD: a 16-bit attribute length). */
const MAX_PAYLOAD = 65531;

/** Refuses bad options before the verdict is taken, so the packet stays held and the caller hears why. */
function checkOptions(options: ReinjectOptions, bytes: Uint8Array | undefined): void {
  if (typeof options !== 'object' || options === null) throw new TypeError(`Verdict options must be an object ({ mark, interface, fillChecksums }), got ${show(options)}`);
  const mark = options.mark;
  if (mark !== undefined && !(typeof mark === 'number' && Number.isInteger(mark) && mark >= 0 && mark <= 0xffffffff)) {
    throw new RangeError(`Mark must be an integer from 0 to 4294967295 (use mark >>> 0 for a negative int32), got ${show(mark)}`);
  }
  if (options.fillChecksums !== undefined && typeof options.fillChecksums !== 'boolean') {
    throw new TypeError(`fillChecksums must be true or false, got ${show(options.fillChecksums)}`);
  }
  if (bytes !== undefined && bytes.length > MAX_PAYLOAD) {
    throw new RangeError(`A reinjected packet can be at most ${MAX_PAYLOAD} bytes, got ${bytes.length}`);
  }
  const via = options.interface;
  if (via !== undefined && !(typeof via === 'string' ? via.length > 0 : Number.isInteger(via) && via > 0)) {
    throw new TypeError(`interface must be a name or a positive index, got ${show(via)}`);
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  // Small packets (most): a loop is cheaper than two Buffer views per call (every reinject() asks).
  if (a.length <= 256) {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  return Buffer.compare(
    Buffer.from(a.buffer, a.byteOffset, a.length),
    Buffer.from(b.buffer, b.byteOffset, b.length),
  ) === 0;
}
