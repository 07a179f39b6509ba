/**
 * Bounded traffic for the demo: pings, UDP datagrams, one TCP exchange, each inside a namespace
 * with a deadline. Pings are divert's own (./ping.ts), sent from a raw socket opened in the
 * namespace: the demo needs no ping binary.
 * @module
 */
import { fileURLToPath } from 'node:url';
import { Netns } from '../../_native/netns.js';
import type { Sandbox } from '../sandbox.js';
import { ping, type PingResult } from './ping.js';

export type { PingResult };

const PEER = fileURLToPath(new URL('./peer.js', import.meta.url));

/**
 * Pings from namespace `ns` (`ip netns` name) until `count` replies came, requests 200 ms apart,
 * 1 s per reply, 3 s at most (as `ping -c count -i 0.2 -W 1 -w 3`).
 */
export function pingFrom(ns: string, address: string, count = 2): Promise<PingResult> {
  return ping(address, { count, untilReplies: true, intervalMs: 200, timeoutMs: 1000, deadlineMs: 3000, netns: Netns.from(ns).path });
}

/** Resolves with the peer's JSON result; `ready` resolves when a server printed "ready". */
function peer(box: Sandbox, ns: string, args: string[], timeoutMs: number): { ready: Promise<void>; result: Promise<Record<string, unknown>> } {
  const child = box.spawn(ns, process.execPath, [PEER, ...args]);
  let out = '';
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 2000);
  const result = new Promise<Record<string, unknown>>((resolve) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) onReady();
    });
    child.on('close', () => {
      clearTimeout(timer);
      onReady();
      const line = out.split('\n').filter((l) => l.startsWith('{')).pop();
      resolve(line ? (JSON.parse(line) as Record<string, unknown>) : {});
    });
  });
  return { ready, result };
}

/** Sends `texts` as UDP datagrams from `from` to `to`:`port`; returns what the server got. */
export async function udpExchange(box: Sandbox, from: string, to: string, host: string, port: number, texts: string[]): Promise<string[]> {
  const recv = peer(box, to, ['udp-recv', String(port), String(texts.length), '2500', host.includes(':') ? '6' : '4'], 2500);
  await recv.ready;
  await peer(box, from, ['udp-send', host, String(port), ...texts], 3000).result;
  return ((await recv.result)['got'] as string[] | undefined) ?? [];
}

/** One TCP request/answer; returns the client's reply text (or undefined). */
export async function tcpExchange(box: Sandbox, from: string, to: string, host: string, port: number, text: string): Promise<string | undefined> {
  const server = peer(box, to, ['tcp-server', String(port), '4000', host.includes(':') ? '6' : '4'], 4000);
  await server.ready;
  const reply = (await peer(box, from, ['tcp-client', host, String(port), text, '3000'], 3000).result)['reply'];
  await server.result;
  return typeof reply === 'string' ? reply : undefined;
}
