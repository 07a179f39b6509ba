/**
 * One request and its answer as a value, so every operation has an async form (the event loop
 * keeps turning) and a blocking form (exit-time cleanup only) built from the same code; and
 * {@link Steps}, a sequence of them, for operations of several requests.
 * @module
 */
import { i32ne } from '../netlink/bytes.js';
import { NlmsgType } from '../netlink/constants.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import type { MessageIter } from '../netlink/message_iter.js';
import { parseNlmsgerr, toNetlinkError } from '../netlink/netlink_error.js';
import { errnoName, NetlinkError } from '../errors.js';
import type { NetlinkSocket } from '../socket/netlink_socket.js';

/** A request ready to send, the handler of its answer, and the value it leaves. */
export interface Tx<T> {
  readonly bytes: Uint8Array;
  readonly seq: number;
  readonly op: string;
  onMessage(it: MessageIter): boolean;
  result(): T;
}

/** Runs `tx` without blocking the event loop. */
export async function run<T>(sock: NetlinkSocket, tx: Tx<T>): Promise<T> {
  await sock.exchange(tx.bytes, [tx.seq], (it) => tx.onMessage(it), tx.op);
  return tx.result();
}

/**
 * Runs `tx` for a synchronous caller without waiting: the kernel answers rtnetlink requests
 * inside sendmsg, so the answer is read at once (see NetlinkSocket.exchangeNow).
 */
export function runNow<T>(sock: NetlinkSocket, tx: Tx<T>): T {
  sock.exchangeNow(tx.bytes, [tx.seq], (it) => tx.onMessage(it), tx.op);
  return tx.result();
}

/** Runs `tx` blocking (a bounded poll): exit-time cleanup only. */
export function runSync<T>(sock: NetlinkSocket, tx: Tx<T>): T {
  sock.exchangeSync(tx.bytes, [tx.seq], (it) => tx.onMessage(it), tx.op);
  return tx.result();
}

/**
 * A request answered by one NLMSG_ERROR. The result is undefined for an ACK, or the errno name
 * when it is one of `tolerated` (an expected refusal such as EEXIST); any other NACK throws a
 * NetlinkError naming `op`.
 */
export function ackTx(sock: NetlinkSocket, op: string, put: (b: MessageBuilder, seq: number) => void, tolerated: readonly string[] = []): Tx<string | undefined> {
  const seq = sock.nextSeq();
  const b = new MessageBuilder(256);
  put(b, seq);
  let refused: string | undefined;
  return {
    bytes: b.bytes(),
    seq,
    op,
    onMessage(it) {
      if (it.type !== NlmsgType.NLMSG_ERROR) return false;
      const e = parseNlmsgerr(it.buffer, it.payloadOffset, it.end, it.flags);
      if (e.errno === 0) return true;
      const code = errnoName(e.errno);
      if (!tolerated.includes(code)) throw toNetlinkError(op, e);
      refused = code;
      return true;
    },
    result: () => refused,
  };
}

/**
 * A dump request: `decode` turns each message into a value (or undefined to skip it), collected
 * until NLMSG_DONE. A NACK throws a NetlinkError naming `op`.
 */
export function dumpTx<T>(sock: NetlinkSocket, op: string, put: (b: MessageBuilder, seq: number) => void, decode: (it: MessageIter) => T | undefined): Tx<T[]> {
  const seq = sock.nextSeq();
  const b = new MessageBuilder(128);
  put(b, seq);
  const out: T[] = [];
  return {
    bytes: b.bytes(),
    seq,
    op,
    onMessage(it) {
      if (it.type === NlmsgType.NLMSG_DONE) {
        // NLMSG_DONE carries an int: a negative errno when the dump failed part way.
        const err = it.end - it.payloadOffset >= 4 ? i32ne(it.buffer, it.payloadOffset) : 0;
        if (err < 0) throw new NetlinkError(op, -err, seq);
        return true;
      }
      if (it.type === NlmsgType.NLMSG_ERROR) {
        const e = parseNlmsgerr(it.buffer, it.payloadOffset, it.end, it.flags);
        if (e.errno !== 0) throw toNetlinkError(op, e);
        return true;
      }
      const v = decode(it);
      if (v !== undefined) out.push(v);
      return false;
    },
    result: () => out,
  };
}

/**
 * A sequence of requests where each may depend on the answers before it, written once as a
 * generator (`const v = yield* step(tx)`) and run by {@link runSteps}, {@link runStepsNow} or
 * {@link runStepsSync}. A NACK is thrown into the generator at its `yield`, so try/catch there
 * works as in straight-line code.
 */
export type Steps<T> = Generator<Tx<unknown>, T, unknown>;

/** One request inside {@link Steps}: `const v = yield* step(tx)` is the answer's value. */
export function* step<T>(tx: Tx<T>): Generator<Tx<T>, T, unknown> {
  return (yield tx) as T;
}

/** Runs `steps` without blocking the event loop. */
export async function runSteps<T>(sock: NetlinkSocket, steps: Steps<T>): Promise<T> {
  let r = steps.next();
  while (!r.done) {
    let value: unknown;
    try {
      value = await run(sock, r.value);
    } catch (err) {
      r = steps.throw(err);
      continue;
    }
    r = steps.next(value);
  }
  return r.value;
}

/** Runs `steps` for a synchronous caller, each request as {@link runNow}. */
export function runStepsNow<T>(sock: NetlinkSocket, steps: Steps<T>): T {
  return drive(steps, (tx) => runNow(sock, tx));
}

/** Runs `steps` blocking, each request as {@link runSync}: exit-time cleanup only. */
export function runStepsSync<T>(sock: NetlinkSocket, steps: Steps<T>): T {
  return drive(steps, (tx) => runSync(sock, tx));
}

function drive<T>(steps: Steps<T>, exec: (tx: Tx<unknown>) => unknown): T {
  let r = steps.next();
  while (!r.done) {
    let value: unknown;
    try {
      value = exec(r.value);
    } catch (err) {
      r = steps.throw(err);
      continue;
    }
    r = steps.next(value);
  }
  return r.value;
}
