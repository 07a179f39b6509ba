/**
 * `/proc/net/netfilter/nfnetlink_queue`: the kernel's per-queue counters, one line per bound
 * queue, printed with `"%5u %6u %5u %1u %5u %5u %5u %8u %2d"` (net/netfilter/nfnetlink_queue.c,
 * seq_show): queue number, peer portid, queue_total (waiting now), copy mode, copy range,
 * queue_dropped (queue full), queue_user_dropped (netlink socket full), id_sequence, 1.
 * @module
 */
import { close as closeFd, readFile as readFileFd } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Netns } from '../_native/netns.js';
import { loadNative } from '../_native/binding.js';
import { Errno } from '../_native/errno.js';
import { SystemCallError } from '../errors.js';

export interface QueueCounters {
  queue: number;
  portid: number;
  /** Packets waiting for a verdict right now. */
  waiting: number;
  copyMode: number;
  copyRange: number;
  /** Dropped because the queue was full. */
  queueDropped: number;
  /** Dropped because the netlink socket buffer was full. */
  userDropped: number;
  /** Last packet id handed out. */
  idSequence: number;
}

export const NFQUEUE_PROC = '/proc/net/netfilter/nfnetlink_queue';

/** Parses the file's text; malformed lines are skipped. */
export function parseQueueProc(text: string): QueueCounters[] {
  const out: QueueCounters[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/).map(Number);
    if (f.length < 8 || f.some((n) => !Number.isFinite(n))) continue;
    const [queue, portid, waiting, copyMode, copyRange, queueDropped, userDropped, idSequence] = f as [number, number, number, number, number, number, number, number];
    out.push({ queue, portid, waiting, copyMode, copyRange, queueDropped, userDropped, idSequence });
  }
  return out;
}

/**
 * Reads the counters of `queue`, in network namespace `netns` (a name or a path). Undefined when
 * unreadable or not bound.
 */
export function readQueueCounters(queue: number, netns?: string): Promise<QueueCounters | undefined> {
  return readRangeCounters(queue, queue, netns);
}

/**
 * The counters of queues `first`…`last` added up (a multi-queue socket's, `queue` = `first`), in
 * network namespace `netns`. Undefined when unreadable or none of them is bound.
 */
export async function readRangeCounters(first: number, last: number, netns?: string): Promise<QueueCounters | undefined> {
  return sumCounters((await readAllQueueCounters(netns))?.filter((c) => c.queue >= first && c.queue <= last) ?? []);
}

/** Queues' counters added up: what waits, what was dropped, ids handed out; the first's identity. */
export function sumCounters(cs: readonly QueueCounters[]): QueueCounters | undefined {
  if (cs.length === 0) return undefined;
  const sum = { ...cs[0]! };
  for (const c of cs.slice(1)) {
    sum.waiting += c.waiting;
    sum.queueDropped += c.queueDropped;
    sum.userDropped += c.userDropped;
    sum.idSequence += c.idSequence;
  }
  return sum;
}

/** Every bound queue's counters in `netns` (a name or a path); undefined when unreadable. */
export async function readAllQueueCounters(netns?: string): Promise<QueueCounters[] | undefined> {
  try {
    return parseQueueProc(netns === undefined ? await readFile(NFQUEUE_PROC, 'utf8') : await readInNetns(Netns.from(netns).path));
  } catch {
    return undefined;
  }
}

/**
 * NFQUEUE_PROC as seen inside the namespace file at `path`: /proc/net shows the reader's
 * namespace, so the addon opens the file with this thread in that namespace (and back, at once);
 * the open file keeps showing it, and is read on the threadpool like any other. No child process.
 */
async function readInNetns(path: string): Promise<string> {
  const fd = loadNative().openInNetns?.(NFQUEUE_PROC_OWN, path) ?? -Errno.EOPNOTSUPP;
  if (fd < 0) throw new SystemCallError('open', -fd);
  try {
    return await new Promise<string>((resolve, reject) => readFileFd(fd, 'utf8', (err, text) => (err ? reject(err) : resolve(text))));
  } finally {
    closeFd(fd, () => {});
  }
}

/** NFQUEUE_PROC of the calling thread's namespace (/proc/net is the process leader's). */
const NFQUEUE_PROC_OWN = '/proc/thread-self/net/netfilter/nfnetlink_queue';
