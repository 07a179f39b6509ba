/**
 * `--json`: one JSON object per packet with the line format's fields (time as ISO 8601 UTC).
 * @module
 */
import type { PacketRecord } from './record.js';

/** The object printed for `r` (stable key order). */
export function jsonRecord(r: PacketRecord): Record<string, unknown> {
  return {
    time: new Date(Math.floor(r.time)).toISOString(),
    direction: r.direction,
    interface: r.interface,
    family: r.family,
    src: r.src,
    dst: r.dst,
    srcPort: r.srcPort,
    dstPort: r.dstPort,
    protocol: r.protocol,
    flags: r.flags,
    info: r.info,
    length: r.length,
    verdict: r.verdict,
  };
}

/** One line of JSON (no newline). */
export function formatJson(r: PacketRecord): string {
  return JSON.stringify(jsonRecord(r));
}
