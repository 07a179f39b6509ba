/**
 * The TTY status line (stderr) and the closing summary of `divert intercept`.
 * @module
 */
import type { QueueCounters } from '../queue_proc.js';

export interface InterceptCounts {
  received: number;
  reinjected: number;
  dropped: number;
}

/** `1234 pkts (56/s)  reinjected 1200  dropped 34  kernel: waiting 0, queue-full drops 0, socket drops 0` */
export function formatStatus(c: InterceptCounts, ratePerSec: number, kernel: QueueCounters | undefined): string {
  const k = kernel
    ? `kernel: waiting ${kernel.waiting}, queue-full drops ${kernel.queueDropped}, socket drops ${kernel.userDropped}`
    : 'kernel: n/a';
  return `${c.received} pkts (${Math.round(ratePerSec)}/s)  reinjected ${c.reinjected}  dropped ${c.dropped}  ${k}`;
}

/** The summary printed when intercept ends (one line). */
export function formatSummary(c: InterceptCounts, kernel: QueueCounters | undefined): string {
  const k = kernel ? `, ${kernel.queueDropped + kernel.userDropped} dropped by the kernel` : '';
  return `${c.received} packet${c.received === 1 ? '' : 's'} received, ${c.reinjected} reinjected, ${c.dropped} dropped${k}`;
}
