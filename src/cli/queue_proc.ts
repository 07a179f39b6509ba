/**
 * `/proc/net/netfilter/nfnetlink_queue`: the kernel's per-queue counters, one line per bound
 * queue, printed with `"%5u %6u %5u %1u %5u %5u %5u %8u %2d"` (net/netfilter/nfnetlink_queue.c,
 * seq_show): queue number, peer portid, queue_total (waiting now), copy mode, copy range,
 * queue_dropped (queue full), queue_user_dropped (netlink socket full), id_sequence, 1.
 * @module
 */
import { spawn } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { Netns } from '../_native/netns.js';

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
 * Reads the counters of `queue`, in network namespace `netns` (a name or a path; /proc/net shows
 * the reader's namespace, so another namespace's is read by `nsenter … cat`). Undefined when
 * unreadable or not bound.
 */
export async function readQueueCounters(queue: number, netns?: string): Promise<QueueCounters | undefined> {
  let text: string;
  try {
    text = netns === undefined ? await readFile(NFQUEUE_PROC, 'utf8') : await readInNetns(Netns.from(netns).path);
  } catch {
    return undefined;
  }
  return parseQueueProc(text).find((c) => c.queue === queue);
}

/**
 * NFQUEUE_PROC as seen inside the namespace file at `path`. The namespace reaches the child as
 * its open fd 3, never as a word of its argument vector: the words are constants, so no
 * user-given name can become an option of `nsenter` or `cat`.
 */
async function readInNetns(path: string): Promise<string> {
  const ns = await open(path, 'r');
  try {
    return await new Promise<string>((resolve, reject) => {
      const child = spawn('nsenter', ['--net=/proc/self/fd/3', 'cat', NFQUEUE_PROC], { stdio: ['ignore', 'pipe', 'ignore', ns.fd], timeout: 2000 });
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`nsenter … cat ${NFQUEUE_PROC} exited with ${String(code)}`))));
    });
  } finally {
    await ns.close();
  }
}
