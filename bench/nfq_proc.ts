/**
 * /proc/net/netfilter/nfnetlink_queue: one line per bound queue of the reading process's network
 * namespace (net/netfilter/nfnetlink_queue.c, seq_show):
 *   queue_number peer_portid queue_total copy_mode copy_range queue_dropped queue_user_dropped id_sequence 1
 * queue_dropped: packets the kernel dropped for a full queue; queue_user_dropped: packets it could
 * not hand to the listener's socket (its buffer full: ENOBUFS); id_sequence: the last packet id
 * given, i.e. packets queued so far.
 */
import { readFileSync } from 'node:fs';

export interface QueueLine {
  queue: number;
  portid: number;
  queued: number;
  copyMode: number;
  copyRange: number;
  queueDropped: number;
  userDropped: number;
  idSequence: number;
}

/** The lines of the file's text; lines that do not have nine numbers are skipped. */
export function parseNfqueueProc(text: string): QueueLine[] {
  const out: QueueLine[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/).map(Number);
    if (f.length !== 9 || f.some((x) => !Number.isInteger(x) || x < 0)) continue;
    const [queue, portid, queued, copyMode, copyRange, queueDropped, userDropped, idSequence] = f as [number, number, number, number, number, number, number, number];
    out.push({ queue, portid, queued, copyMode, copyRange, queueDropped, userDropped, idSequence });
  }
  return out;
}

/** Drops and ids summed over `queues` (a queue not listed counts 0). */
export function queueTotals(lines: readonly QueueLine[], queues: readonly number[]): { queueDropped: number; userDropped: number; idSequence: number } {
  const t = { queueDropped: 0, userDropped: 0, idSequence: 0 };
  for (const l of lines) {
    if (!queues.includes(l.queue)) continue;
    t.queueDropped += l.queueDropped;
    t.userDropped += l.userDropped;
    t.idSequence += l.idSequence;
  }
  return t;
}

/** This namespace's queues now ([] when the file is absent: nfnetlink_queue not loaded). */
export function readNfqueueProc(): QueueLine[] {
  try {
    return parseNfqueueProc(readFileSync('/proc/net/netfilter/nfnetlink_queue', 'utf8'));
  } catch {
    return [];
  }
}
