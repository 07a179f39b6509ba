/**
 * A multi-queue worker handler for the integration tests: reinjects every packet, except that a
 * UDP payload starting with "DROP" is dropped.
 */
import type { DivertPacket } from '../../src/mod.js';

const DROP = [0x44, 0x52, 0x4f, 0x50]; // "DROP"

export default function onPacket(p: DivertPacket): void {
  const b = p.packet;
  const payload = (b[0]! >> 4) === 6 ? 48 : (b[0]! & 0x0f) * 4 + 8;
  if (DROP.every((c, i) => b[payload + i] === c)) p.drop();
  else p.reinject();
}
