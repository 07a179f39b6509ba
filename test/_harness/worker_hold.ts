/** A multi-queue worker handler that never answers: its packets wait for the close verdict. */
import type { DivertPacket } from '../../src/mod.js';

const held: DivertPacket[] = [];

export default function onPacket(p: DivertPacket): void {
  held.push(p);
}
