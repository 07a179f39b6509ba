/**
 * The worker thread of a multi-queue divert socket (see workers.ts): one divert socket on one
 * queue of the range, its packets handed to the user's handler module (its default export, or
 * an export named `onPacket`) through `onPacket()`. Stats go to the main thread every 100 ms and
 * at the end; errors too (a throwing handler never ends the worker: its packet gets the timeout
 * verdict, as with onPacket() in one thread).
 *
 * Messages from the main thread: `{ type: 'close' }` (graceful: close the socket, send the last
 * stats, end) and `{ type: 'exit' }` (the process is ending: everything close does, synchronously,
 * then set this worker's slot of the shared `done` array and wake the waiting main thread).
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createDivertSocket, setResidue } from './divert_socket.js';
import type { DivertSocketOptions } from './options.js';
import type { DivertPacket } from './divert_packet.js';

/** What the main thread gives each worker. */
export interface WorkerData {
  index: number;
  port: number;
  handler: string;
  /** The socket's options, minus those the main thread keeps (port, rules, filter, signals). */
  options: DivertSocketOptions;
  /** The filter, decided in user space too (the kernel rules may over-approximate it). */
  filter: string | undefined;
  /** Int32Array slots set to 1 once a worker finished its `exit` (Atomics.wait in the main thread). */
  done: SharedArrayBuffer;
  /** The socket's `workerData` option, for the handler module. */
  data: unknown;
}

/** Messages a worker sends. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'failed'; message: string; code?: string | undefined }
  | { type: 'stats'; stats: Record<string, number> }
  | { type: 'error'; message: string; stack?: string | undefined }
  | { type: 'closed'; stats: Record<string, number> }
  /** Sent by the handler module itself: emitted as the socket's 'message' event. */
  | { type: 'user'; data: unknown };

const data = workerData as WorkerData;
const port = parentPort!;
const post = (m: WorkerMessage): void => port.postMessage(m);
const sock = createDivertSocket({ ...data.options, port: data.port, handleSignals: false });
const stats = (): Record<string, number> => ({ ...sock.stats });
sock.on('error', (err: Error) => post({ type: 'error', message: err.message, stack: err.stack }));

try {
  await sock.ready;
  if (data.filter !== undefined) setResidue(sock, data.filter);
  const mod = (await import(data.handler)) as { default?: unknown; onPacket?: unknown };
  const handler = typeof mod.default === 'function' ? mod.default : mod.onPacket;
  if (typeof handler !== 'function') {
    throw new TypeError(`The worker module ${data.handler} must export its packet handler as default (export default (p) => { p.reinject(); }) or as onPacket`);
  }
  sock.onPacket(handler as (p: DivertPacket) => void);
  post({ type: 'ready' });
} catch (err) {
  await sock.close().catch(() => {});
  post({ type: 'failed', message: (err as Error).message, code: (err as { code?: string }).code });
  port.close();
}

const timer = setInterval(() => post({ type: 'stats', stats: stats() }), 100);
timer.unref();

port.on('message', (m: { type: string }) => {
  if (m.type === 'close') {
    clearInterval(timer);
    void sock.close().catch(() => {}).then(() => {
      post({ type: 'closed', stats: stats() });
      port.close();
    });
  } else if (m.type === 'exit') {
    clearInterval(timer);
    try {
      sock.closeSync();
    } finally {
      const done = new Int32Array(data.done);
      Atomics.store(done, data.index, 1);
      Atomics.notify(done, data.index);
    }
  }
});
