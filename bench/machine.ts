/** One line naming the machine a benchmark ran on: kernel, CPUs, Node. */
import { cpus, release, totalmem } from 'node:os';

export function machineLine(): string {
  const c = cpus();
  return `machine: Linux ${release()}, ${c.length} × ${c[0]?.model.trim() ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.versions.node}`;
}

/** Median and spread (min–max) of a sample. */
export function spread(xs: readonly number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid]! : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
  return { median, min: s[0] ?? 0, max: s[s.length - 1] ?? 0 };
}
