/**
 * The programs the throughput bench compares, as rows: each a listener (C or divert) or none
 * (the traffic's own rate), the queues its rule sends to, and the C row its ratio is taken to.
 */
import type { CPrograms } from './build_c.js';

export const QUEUE = 4242;
/** The multi-queue rows' ports (`-j DIVERT 10:13`). */
export const MQ_PORTS = '10:13';

export type Program =
  | { kind: 'none' }
  | { kind: 'c'; mode: 'per-packet' | 'batch' | 'drop' | 'mangle' | 'mangle-batch'; gso: boolean }
  | { kind: 'divert'; api: 'iterator' | 'handler' | 'recvfrom' | 'workers'; action: 'accept' | 'mangle' | 'drop'; /** undefined: the socket's default */ gso?: boolean };

export interface Row {
  id: string;
  label: string;
  program: Program;
  /** The rule's target: one queue, or a range balanced by the kernel. */
  ports: string;
  /** The id of the row whose same-repetition result this row's ratio is taken to. */
  ref?: string;
}

const c = (id: string, label: string, mode: Extract<Program, { kind: 'c' }>['mode'], gso = false): Row =>
  ({ id, label, program: { kind: 'c', mode, gso }, ports: String(QUEUE) });
const d = (id: string, label: string, api: Extract<Program, { kind: 'divert' }>['api'], action: Extract<Program, { kind: 'divert' }>['action'], ref: string, gso?: boolean, ports = String(QUEUE)): Row =>
  ({ id, label, program: { kind: 'divert', api, action, ...(gso === undefined ? {} : { gso }) }, ports, ref });

/** UDP rows, each C loop next to the divert rows compared with it (the order alternates per repetition). */
export const UDP_ROWS: readonly Row[] = [
  { id: 'none', label: 'no rule (the flood\'s own rate)', program: { kind: 'none' }, ports: '' },
  c('c-pp', 'C per-packet verdict', 'per-packet'),
  c('c-batch', 'C batch verdict (1 per recv batch ≤32)', 'batch'),
  d('d-iter', 'divert iterator accept-all', 'iterator', 'accept', 'c-batch'),
  d('d-handler', 'divert handler accept-all', 'handler', 'accept', 'c-batch'),
  d('d-recvfrom', 'divert seed-style recvfrom/sendto', 'recvfrom', 'accept', 'c-batch'),
  d('d-mq1', `divert 1 worker (DIVERT ${QUEUE}:${QUEUE})`, 'workers', 'accept', 'c-batch', undefined, `${QUEUE}:${QUEUE}`),
  d('d-mq', `divert 4 workers (DIVERT ${MQ_PORTS})`, 'workers', 'accept', 'c-batch', undefined, MQ_PORTS),
  c('c-mangle', 'C mangle, 1 verdict+payload send/packet', 'mangle'),
  c('c-mangle-batch', 'C mangle, verdicts+payloads 1 send/batch', 'mangle-batch'),
  d('d-mangle', 'divert mangle-and-reinject', 'handler', 'mangle', 'c-mangle-batch'),
  c('c-drop', 'C drop, batch verdict', 'drop'),
  d('d-drop', 'divert drop', 'handler', 'drop', 'c-drop'),
];

/** TCP bulk rows: one flow forwarded through the router, all its FORWARD traffic diverted. */
export const TCP_ROWS: readonly Row[] = [
  { id: 'none', label: 'no rule (the flow\'s own rate)', program: { kind: 'none' }, ports: '' },
  c('c-pp', 'C per-packet verdict, no F_GSO', 'per-packet'),
  c('c-batch', 'C batch verdict, no F_GSO', 'batch'),
  c('c-gso-pp', 'C per-packet verdict, F_GSO', 'per-packet', true),
  c('c-gso-batch', 'C batch verdict, F_GSO', 'batch', true),
  d('d-iter', 'divert iterator, default options', 'iterator', 'accept', 'c-gso-batch'),
  d('d-handler', 'divert handler, default options', 'handler', 'accept', 'c-gso-batch'),
  d('d-iter-gso', 'divert iterator, gso: true', 'iterator', 'accept', 'c-gso-batch', true),
  d('d-iter-seg', 'divert iterator, gso: false (per segment)', 'iterator', 'accept', 'c-batch', false),
];

/** The command line of a row's listener (undefined for "none"). */
export function listenerArgv(row: Row, bins: CPrograms, distBench: string, warmupS: number, seconds: number): string[] | undefined {
  const p = row.program;
  if (p.kind === 'none') return undefined;
  if (p.kind === 'c') return [bins.nfq, p.mode, row.ports, p.gso ? '1' : '0', String(warmupS), String(seconds)];
  return [process.execPath, `${distBench}divert_listener.js`, p.api, p.action, row.ports, p.gso === undefined ? '-' : p.gso ? '1' : '0', String(warmupS), String(seconds)];
}
