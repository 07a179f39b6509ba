/**
 * The nf_tables connection for the shared table's changes and for listings: one per namespace,
 * kept while calls come and closed after a second of idleness, instead of one per call. Closing
 * an nf_tables socket after changes makes the kernel hold its commit mutex through an RCU grace
 * period (5–25 ms here), and the next change in that namespace waits for it inside sendmsg —
 * on the event loop's thread. Calls on one connection run one at a time (a socket runs one dump
 * at a time).
 * @module
 */
import { Netns } from '../_native/netns.js';
import { NftConnection } from '../nftables/conn.js';
import { DivertClosedError, NetlinkError, SystemCallError } from '../errors.js';
import { Errno } from '../_native/errno.js';

function socketBroken(err: unknown): boolean {
  if (err instanceof SystemCallError || err instanceof DivertClosedError) return true;
  return err instanceof NetlinkError && (err.errno === Errno.EBADF || err.errno === Errno.ETIMEDOUT);
}

const IDLE_MS = 1000;

interface Shared {
  readonly conn: NftConnection;
  /** The last call queued: the next one starts after it. */
  tail: Promise<unknown>;
  users: number;
  idle: NodeJS.Timeout | undefined;
}

const OPEN = new Map<string, Shared>();

/** Runs `work` on this process's shared connection to the namespace (opened when needed). */
export async function withSharedConnection<T>(netnsPath: string | undefined, work: (conn: NftConnection) => Promise<T>): Promise<T> {
  const key = Netns.identity(netnsPath);
  let s = OPEN.get(key);
  if (s === undefined) {
    s = { conn: NftConnection.open({ netnsPath }), tail: Promise.resolve(), users: 0, idle: undefined };
    OPEN.set(key, s);
  }
  const shared = s;
  clearTimeout(shared.idle);
  shared.users++;
  const run = shared.tail.then(() => work(shared.conn));
  shared.tail = run.catch(() => undefined);
  try {
    return await run;
  } catch (err) {
    // A refusal, a rule that is not ours, bad input: the connection is fine. Only a broken socket
    // (a failed syscall, a closed socket, an answer that never came) makes the next call start afresh.
    if (socketBroken(err) && OPEN.get(key) === shared) {
      OPEN.delete(key);
      void shared.tail.then(() => shared.conn.closeAsync());
    }
    throw err;
  } finally {
    if (--shared.users === 0 && OPEN.get(key) === shared) {
      shared.idle = setTimeout(() => {
        if (shared.users > 0 || OPEN.get(key) !== shared) return;
        OPEN.delete(key);
        void shared.conn.closeAsync();
      }, IDLE_MS);
      shared.idle.unref(); // never what keeps a program alive
    }
  }
}
