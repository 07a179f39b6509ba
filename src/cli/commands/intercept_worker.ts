/**
 * The handler module of `divert intercept <port>:<last>`: runs in each worker thread of the
 * multi-queue socket, formats each packet as the command's chosen format does, gives it the
 * command's verdict, and sends the text (and, for -w, the captured bytes) to the main thread,
 * which prints and writes them in one stream.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { DivertPacket } from '../../divert/divert_packet.js';
import { packetRecord } from '../format/record.js';
import { formatLine } from '../format/line.js';
import { formatJson } from '../format/json.js';
import { formatHex } from '../format/hex.js';
import { captured } from './captured.js';

/** What the command gives each worker (the socket's `workerData`). */
export interface InterceptWorkerData {
  verdict: 'reinject' | 'drop';
  format: 'line' | 'json' | 'none';
  hex: boolean;
  /** Send the bytes for the pcap file (-w). */
  capture: boolean;
}

/** What a worker sends the main thread per packet. */
export interface InterceptWorkerRecord {
  /** The printed text, newlines included (empty with no output format). */
  text: string;
  /** Bytes for the capture, with its time and the packet's length in the kernel. */
  capture?: { bytes: Uint8Array; timestamp: number; originalLength: number } | undefined;
}

const o = (workerData as { data: InterceptWorkerData }).data;

export default function onPacket(p: DivertPacket): void {
  let text = '';
  if (o.format !== 'none') {
    const r = packetRecord(p.packet, p.address, o.verdict);
    text = (o.format === 'json' ? formatJson(r, o.hex ? p.packet : undefined) : formatLine(r)) + '\n';
  }
  if (o.hex && o.format !== 'json') text += formatHex(p.packet);
  const record: InterceptWorkerRecord = {
    text,
    capture: o.capture ? { bytes: captured(p).slice(), timestamp: p.address.timestamp ?? Date.now(), originalLength: p.address.originalLength } : undefined,
  };
  if (o.verdict === 'drop') p.drop();
  else p.reinject();
  parentPort!.postMessage({ type: 'user', data: record });
}
