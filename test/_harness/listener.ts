/**
 * Starts ./listener_main.ts (a divert listener process) for fault tests.
 * @module
 */
import { fileURLToPath } from 'node:url';
import type { DivertSocketOptions } from '../../src/mod.js';
import { spawnWatched, type Netns, type Watched } from './netns.js';

const MAIN = fileURLToPath(new URL('./listener_main.js', import.meta.url));

/** Starts a listener with `options` inside `ns` (give the same `netns` in the options). */
export async function startListener(options: DivertSocketOptions, ns?: Netns): Promise<Watched> {
  const w = spawnWatched(ns, process.execPath, [MAIN, JSON.stringify(options)], 60_000);
  if (!(await w.waitForOutput(/^ready$/m, 10_000))) throw new Error(`listener did not start: ${w.stderr().trim().slice(-400)}`);
  return w;
}
