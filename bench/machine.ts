/** One line naming the machine a benchmark ran on: kernel, CPUs, Node. */
import { cpus, release, totalmem } from 'node:os';

export function machineLine(): string {
  const c = cpus();
  return `machine: Linux ${release()}, ${c.length} × ${c[0]?.model.trim() ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.versions.node}`;
}
