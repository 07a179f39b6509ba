/**
 * The default output: one line per packet, like tcpdump.
 *
 * `12:00:00.000001 in  eth0 IP 198.18.1.1.40000 > 198.18.2.2.80: TCP [S], length 60, reinject`
 * @module
 */
import type { PacketRecord } from './record.js';

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

/** `HH:MM:SS.uuuuuu` in local time (or UTC with `utc`), as tcpdump prints. */
export function formatClock(timeMs: number, utc = false): string {
  const d = new Date(Math.floor(timeMs));
  const h = utc ? d.getUTCHours() : d.getHours();
  const m = utc ? d.getUTCMinutes() : d.getMinutes();
  const s = utc ? d.getUTCSeconds() : d.getSeconds();
  const usec = Math.floor((timeMs * 1000) % 1_000_000);
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(usec, 6)}`;
}

function endpoint(addr: string, port: number | null): string {
  return port === null ? addr : `${addr}.${port}`;
}

/** One tcpdump-like line (no newline). */
export function formatLine(r: PacketRecord, options: { utc?: boolean } = {}): string {
  const proto = [r.protocol, r.flags === null ? '' : ` [${r.flags}]`, r.info === null ? '' : ` ${r.info}`].join('');
  return `${formatClock(r.time, options.utc)} ${r.direction.padEnd(3)} ${r.interface} ${r.family === 6 ? 'IP6' : 'IP'} ` +
    `${endpoint(r.src, r.srcPort)} > ${endpoint(r.dst, r.dstPort)}: ${proto}, length ${r.length}, ${r.verdict}`;
}
