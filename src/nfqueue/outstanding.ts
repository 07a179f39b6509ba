/**
 * The packet ids a queue has delivered and not yet answered, oldest first: what decides whether
 * a run of accepts may go as one NFQNL_MSG_VERDICT_BATCH (which answers every packet still queued
 * with an id up to its own: safe only when no packet below it is still waiting for the program).
 *
 * The kernel numbers a queue's packets 1, 2, 3… (a u32 that wraps) and queues them in that order;
 * ids it could not deliver (ENOBUFS) were never queued, so gaps between delivered ids are
 * nothing. Answers usually come in order: the head is popped, no set is touched. An answer out of
 * order is remembered until the head reaches it.
 * @module
 */
export class OutstandingIds {
  #ring = new Uint32Array(1024);
  #head = 0;
  #size = 0;
  /** Ids answered while an older one was still waiting. */
  #ahead = new Set<number>();

  /** Packets delivered and not yet answered. */
  get size(): number {
    return this.#size - this.#ahead.size;
  }

  /** The oldest id still waiting for its answer, or undefined when none waits. */
  get head(): number | undefined {
    return this.#size > 0 ? this.#ring[this.#head]! : undefined;
  }

  /** Records a delivered packet (ids arrive in increasing order). */
  push(id: number): void {
    if (this.#size === this.#ring.length) this.#grow();
    this.#ring[(this.#head + this.#size) & (this.#ring.length - 1)] = id;
    this.#size++;
  }

  /** Records the answer for `id`; ids never delivered (or answered already) are ignored. */
  answer(id: number): void {
    if (this.#size === 0) return;
    if (id === this.#ring[this.#head]) {
      this.#pop();
      while (this.#size > 0 && this.#ahead.delete(this.#ring[this.#head]!)) this.#pop();
      return;
    }
    if (this.#delivered(id)) this.#ahead.add(id);
  }

  /** Whether `id` waits here: a binary search, the ids' distance from the head growing (u32: they wrap). */
  #delivered(id: number): boolean {
    const mask = this.#ring.length - 1;
    const head = this.#ring[this.#head]!;
    const want = (id - head) >>> 0;
    let lo = 0;
    let hi = this.#size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const d = (this.#ring[(this.#head + mid) & mask]! - head) >>> 0;
      if (d === want) return true;
      if (d < want) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }

  /** Forgets everything (the queue was unbound: the kernel answered what was left). */
  clear(): void {
    this.#head = 0;
    this.#size = 0;
    this.#ahead.clear();
  }

  #pop(): void {
    this.#head = (this.#head + 1) & (this.#ring.length - 1);
    this.#size--;
  }

  #grow(): void {
    const next = new Uint32Array(this.#ring.length * 2);
    for (let i = 0; i < this.#size; i++) next[i] = this.#ring[(this.#head + i) & (this.#ring.length - 1)]!;
    this.#ring = next;
    this.#head = 0;
  }
}
