/**
 * The packets a socket holds (received, no verdict sent yet), in arrival order: what the verdict
 * timeout walks from the oldest, and what close answers.
 *
 * A ring with lazy removal instead of a Map keyed by id: a V8 Map grows and rehashes as a batch
 * fills it and shrinks and rehashes again as the batch is answered (~50 ns and an allocation a
 * packet, measured). Here a packet answered in order pops the front; one answered out of order
 * leaves a hole until the packets before it go; when the ring is full and half of it is holes it
 * is compacted instead of grown, so it stays within four times the packets held (a packet held for
 * ever while a flood passes costs no memory).
 * @module
 */

/** What the ring needs of a packet: a flag it owns, set while the packet is in the ring. */
export interface Holdable {
  /** @internal True from add() until remove(). */
  held: boolean;
}

export class HeldPackets<T extends Holdable> {
  #ring: (T | undefined)[] = new Array<T | undefined>(64).fill(undefined);
  #head = 0;
  /** Slots from the head to the newest packet, holes included. */
  #span = 0;
  #count = 0;

  /** Slots allocated (within four times the packets held, or the initial 64). */
  get capacity(): number {
    return this.#ring.length;
  }

  /** Packets held. */
  get size(): number {
    return this.#count;
  }

  add(p: T): void {
    if (this.#span === this.#ring.length) {
      if (this.#count <= this.#span >> 1) this.#compact(this.#ring.length);
      else this.#compact(this.#ring.length * 2);
    }
    this.#ring[(this.#head + this.#span) & (this.#ring.length - 1)] = p;
    this.#span++;
    this.#count++;
    p.held = true;
  }

  /** Takes `p` out; false when it was not held. */
  remove(p: T): boolean {
    if (!p.held) return false;
    p.held = false;
    this.#count--;
    const ring = this.#ring;
    const mask = ring.length - 1;
    while (this.#span > 0) {
      const q = ring[this.#head];
      if (q !== undefined && q.held) break;
      ring[this.#head] = undefined;
      this.#head = (this.#head + 1) & mask;
      this.#span--;
    }
    return true;
  }

  /** The packet held longest, or undefined. */
  oldest(): T | undefined {
    return this.#span > 0 ? this.#ring[this.#head] : undefined;
  }

  /** Every held packet, oldest first (a copy: answering them while walking it is safe). */
  toArray(): T[] {
    const out: T[] = [];
    const mask = this.#ring.length - 1;
    for (let i = 0; i < this.#span; i++) {
      const q = this.#ring[(this.#head + i) & mask];
      if (q !== undefined && q.held) out.push(q);
    }
    return out;
  }

  /** Moves the held packets, in order, to the front of a ring of `capacity` slots (a power of two). */
  #compact(capacity: number): void {
    const held = this.toArray();
    const ring = this.#ring.length === capacity ? this.#ring.fill(undefined) : new Array<T | undefined>(capacity).fill(undefined);
    for (let i = 0; i < held.length; i++) ring[i] = held[i];
    this.#ring = ring;
    this.#head = 0;
    this.#span = held.length;
  }
}
