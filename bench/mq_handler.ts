/**
 * The packet handler of the bench's multi-queue listener (bench/divert_listener.ts, api
 * "workers"): loaded in one worker thread per queue by createDivertSocket({ port: 'a:b', worker }).
 */
import type { DivertPacket } from '../src/mod.js';

export default function handle(p: DivertPacket): void {
  p.reinject();
}
