/** Builds the bench's C programs (bench/c/) into bench/out/ with gcc; needs libnetfilter-queue-dev and libmnl-dev. */
import { mkdirSync } from 'node:fs';
import { sh } from './testbed.js';

const ROOT = new URL('../..', import.meta.url).pathname;
export const OUT = `${ROOT}bench/out`;

export interface CPrograms { nfq: string; flood: string; sink: string; tcp: string }

export function buildC(): CPrograms {
  mkdirSync(OUT, { recursive: true });
  const libs = sh('pkg-config', ['--cflags', '--libs', 'libnetfilter_queue', 'libmnl']).trim().split(/\s+/);
  const cc = (name: string, extra: string[] = []): string => {
    sh('gcc', ['-O2', '-Wall', '-o', `${OUT}/${name}`, `${ROOT}bench/c/${name}.c`, ...extra]);
    return `${OUT}/${name}`;
  };
  return { nfq: cc('nfq_listener', libs), flood: cc('udp_flood'), sink: cc('udp_sink'), tcp: cc('tcp_bulk') };
}
