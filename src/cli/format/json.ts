/**
 * `--json`: one JSON object per packet with the line format's fields (time as ISO 8601 UTC);
 * with `-x` the packet's bytes go in its `hex` field, so the output stays one JSON value a line.
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

/** One line of JSON (no newline); `bytes` given (`-x`), they follow as a `hex` string. */
export function formatJson(r: PacketRecord, bytes?: Uint8Array): string {
  const o = jsonRecord(r);
  if (bytes !== undefined) o['hex'] = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  return JSON.stringify(o);
}
