/**
 * PacketQueue: the packets a socket has read and its program has not taken yet, and the
 * program's waits for them (recvfrom(), iteration). The diverting and the sniffing socket share
 * it. Back-pressure: with `highWaterMark` packets buffered it asks its source to stop reading
 * (the kernel keeps queueing, up to its own limits), and below half of that to read again.
 * @module
 */

/** What a queue pauses and resumes: the socket's reading from the kernel. */
export interface PacketSource {
  pause(): void;
  resume(): void;
}

interface Waiter<P> {
  resolve: (p: P | undefined) => void;
  reject: (err: Error) => void;
}

export class PacketQueue<P> {
  #ready: P[] = [];
  #head = 0;
  #waiters: Array<Waiter<P>> = [];
  #paused = false;
  #highWaterMark: number;
  #source: PacketSource;

  constructor(highWaterMark: number, source: PacketSource) {
    this.#highWaterMark = highWaterMark;
    this.#source = source;
  }

  /** Packets buffered, not yet taken. */
  get size(): number {
    return this.#ready.length - this.#head;
  }

  /** Gives `p` to the oldest wait, else buffers it (pausing the source at the high-water mark). */
  push(p: P): void {
    const w = this.#waiters.shift();
    if (w) {
      w.resolve(p);
      return;
    }
    this.#ready.push(p);
    if (!this.#paused && this.size >= this.#highWaterMark) {
      this.#paused = true;
      this.#source.pause();
    }
  }

  /** The oldest buffered packet (resuming the source below half the high-water mark), or undefined. */
  shift(): P | undefined {
    if (this.#head >= this.#ready.length) return undefined;
    const p = this.#ready[this.#head++]!;
    // Drop the taken front now and then, not per packet (an array shift is O(n)).
    if (this.#head > 1024 && this.#head * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#head);
      this.#head = 0;
    }
    if (this.#paused && this.size < this.#highWaterMark / 2) {
      this.#paused = false;
      this.#source.resume();
    }
    return p;
  }

  /** A wait for the next packet; rejects with `signal`'s reason when it aborts first. */
  wait(signal: AbortSignal | undefined): Promise<P | undefined> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      // The abort listener lives only as long as this wait: no leak across many recvfrom() calls.
      const onAbort = (): void => {
        const i = this.#waiters.indexOf(w);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal!.reason);
      };
      const w: Waiter<P> = {
        resolve: (p) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(p);
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      this.#waiters.push(w);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Every wait ends with `err`. */
  fail(err: Error): void {
    for (const w of this.#waiters.splice(0)) w.reject(err);
  }

  /** The socket ended: every wait ends with undefined (buffered packets stay, see clear()). */
  end(): void {
    for (const w of this.#waiters.splice(0)) w.resolve(undefined);
  }

  /** Forgets the buffered packets. */
  clear(): void {
    this.#ready = [];
    this.#head = 0;
  }
}
