/**
 * What `divert chaos` prints: its settings at the start, the status line, the summary at the end.
 * @module
 */
import type { ChaosStats } from '../../chaos/engine.js';
import type { ImpairmentSettings } from '../../chaos/settings.js';
import type { QueueCounters } from '../queue_proc.js';

const pct = (p: number): string => `${+(p * 100).toFixed(3)}%`;

/** `drop 30%, lag 100ms±20ms, throttle 1mbit (queue 1000) … seed 7`: the impairments that are on. */
export function formatSettings(s: Readonly<ImpairmentSettings>): string {
  const parts: string[] = [];
  if (s.drop > 0) parts.push(`drop ${pct(s.drop)}`);
  if (s.tamper > 0) parts.push(`tamper ${pct(s.tamper)}${s.tamperKeepChecksums ? ' (checksums left wrong)' : ''}`);
  if (s.duplicate > 0) parts.push(`duplicate ${pct(s.duplicate)}`);
  if (s.lag > 0 || s.jitter > 0) parts.push(`lag ${s.lag}ms${s.jitter > 0 ? `±${s.jitter}ms` : ''}`);
  if (s.reorder > 0) parts.push(`reorder ${pct(s.reorder)} (wait ≤ ${s.reorderWait}ms)`);
  if (s.throttle > 0) parts.push(`throttle ${formatRate(s.throttle)} (burst ${s.burst} B, queue ${s.queueLimit})`);
  return `${parts.length > 0 ? parts.join(', ') : 'no impairment (every packet passes)'}; seed ${s.seed}`;
}

/** bits per second as tc writes them: 1mbit, 256kbit, 9600bit. */
export function formatRate(bps: number): string {
  for (const [unit, f] of [['gbit', 1e9], ['mbit', 1e6], ['kbit', 1e3]] as const) if (bps >= f && Number.isInteger(bps / f * 1000)) return `${+(bps / f).toFixed(3)}${unit}`;
  return `${+bps.toFixed(3)}bit`;
}

/** The status line: `1234 pkts (56/s)  dropped 12  released 1200  … held 20  queued 3  kernel: …`. */
export function formatChaosStatus(c: ChaosStats, ratePerSec: number, kernel: QueueCounters | undefined): string {
  const k = kernel ? `kernel: waiting ${kernel.waiting}, queue-full drops ${kernel.queueDropped}` : 'kernel: n/a';
  return `${c.received} pkts (${Math.round(ratePerSec)}/s)  ${actions(c)}  held ${c.held}  queued ${c.queued}  ${k}`;
}

function actions(c: ChaosStats): string {
  return `dropped ${c.dropped}  delayed ${c.delayed}  reordered ${c.reordered}  duplicated ${c.duplicated}  tampered ${c.tampered}  throttled ${c.throttled}  ` +
    `queue drops ${c.queueDrops}${c.overflowDrops > 0 ? `  overflow drops ${c.overflowDrops}` : ''}  released ${c.released}`;
}

/** The summary printed at the end (one line). */
export function formatChaosSummary(c: ChaosStats, seed: number): string {
  return `${c.received} packet${c.received === 1 ? '' : 's'} received: ${actions(c).replaceAll('  ', ', ')}; ${c.held} still held; seed ${seed}`;
}
