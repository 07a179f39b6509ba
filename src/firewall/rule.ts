/**
 * The DIVERT rule model and the chain mapping (seed §6.2 → netfilter).
 *
 * ```
 *  seed / ipchains name   netfilter hook   our mangle chain      who passes it
 *  input                  PREROUTING       DIVERT-PREROUTING     every packet that comes in (local or to forward)
 *  forward                FORWARD          DIVERT-FORWARD        forwarded packets only
 *  output                 POSTROUTING      DIVERT-POSTROUTING    every packet that goes out (local or forwarded)
 *  prerouting             PREROUTING       DIVERT-PREROUTING     (netfilter name; same as input)
 *  local-in,  INPUT       INPUT            DIVERT-INPUT          packets addressed to this host
 *  local-out, OUTPUT      OUTPUT           DIVERT-OUTPUT         packets this host originates
 *  postrouting            POSTROUTING      DIVERT-POSTROUTING    (netfilter name; same as output)
 * ```
 * A forwarded packet meets input, forward, output in that order, as in the seed. Names match in
 * any case, except that `input`/`output` mean the seed chains unless written all upper case:
 * `INPUT`/`OUTPUT` are iptables' own chains (local-in/local-out).
 * @module
 */

/** Chain names as the user writes them (canonical lower case). */
export type DivertChain = 'input' | 'output' | 'forward' | 'prerouting' | 'local-in' | 'local-out' | 'postrouting';

/** Built-in netfilter chains in table mangle. */
export type NetfilterHook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';

export type Family = 'ipv4' | 'ipv6';

/** Inclusive port range; a single port has `first === last`. */
export interface PortRange {
  readonly first: number;
  readonly last: number;
}

export interface PortMatch extends PortRange {
  readonly negated: boolean;
}

/** `-s`/`-d`: an address with prefix length, optionally negated, and the ports of that side. */
export interface Endpoint {
  /** Address as written (IPv4 dotted quad or IPv6); absent for "any" (`0/0`). */
  readonly address?: string;
  readonly prefix?: number;
  readonly negated: boolean;
  readonly ports?: PortMatch;
}

export interface InterfaceMatch {
  readonly name: string;
  readonly negated: boolean;
}

export interface ProtocolMatch {
  /** IANA protocol number (0–255). */
  readonly number: number;
  readonly negated: boolean;
}

export interface IcmpTypeMatch {
  readonly type: number;
  readonly code?: number;
  readonly negated: boolean;
}

/** Who owns a rule: a live process (pid + start time) or the CLI (persistent). */
export type Owner =
  | { readonly kind: 'process'; readonly pid: number; readonly startTime: number; readonly label?: string }
  | { readonly kind: 'cli'; readonly label?: string };

/** One DIVERT rule, as `-A <chain> … -j DIVERT <port>` says it. */
export interface DivertRule {
  readonly chain: DivertChain;
  readonly family: Family;
  /** Absent means every protocol (`-p all`). */
  readonly protocol?: ProtocolMatch;
  readonly source?: Endpoint;
  readonly destination?: Endpoint;
  readonly inInterface?: InterfaceMatch;
  readonly outInterface?: InterfaceMatch;
  readonly icmpType?: IcmpTypeMatch;
  /** Divert port = NFQUEUE queue number; a range spreads flows over several queues. */
  readonly port: number | PortRange;
  /** No listener on the port: let packets continue (`--queue-bypass`) instead of dropping them. */
  readonly passThrough: boolean;
  /** Set on rules read back from the kernel; ignored when installing (see `addRule` options). */
  readonly owner?: Owner;
}

/** Seed/user chain → netfilter hook. */
export const CHAIN_HOOK: Readonly<Record<DivertChain, NetfilterHook>> = {
  input: 'PREROUTING',
  prerouting: 'PREROUTING',
  'local-in': 'INPUT',
  forward: 'FORWARD',
  'local-out': 'OUTPUT',
  output: 'POSTROUTING',
  postrouting: 'POSTROUTING',
};

/** Netfilter hook → the name `list` shows (the seed's name where there is one). */
export const HOOK_CHAIN: Readonly<Record<NetfilterHook, DivertChain>> = {
  PREROUTING: 'input',
  INPUT: 'local-in',
  FORWARD: 'forward',
  OUTPUT: 'local-out',
  POSTROUTING: 'output',
};

export const HOOKS: readonly NetfilterHook[] = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];

/** Our own chain in table mangle for a hook (`DIVERT-PREROUTING` …). */
export function ownChain(hook: NetfilterHook): string {
  return `DIVERT-${hook}`;
}

/** Hooks where a packet has no input device (`-i` never matches). */
export function hasInInterface(hook: NetfilterHook): boolean {
  return hook !== 'OUTPUT' && hook !== 'POSTROUTING';
}

/** Hooks where a packet has no output device yet (`-o` never matches). */
export function hasOutInterface(hook: NetfilterHook): boolean {
  return hook !== 'PREROUTING' && hook !== 'INPUT';
}

/**
 * Resolves a chain name as typed. `INPUT`/`OUTPUT` in upper case are netfilter's chains; any
 * other spelling of input/output is the seed's chain. Returns undefined for an unknown name.
 */
export function resolveChain(word: string): DivertChain | undefined {
  if (word === 'INPUT') return 'local-in';
  if (word === 'OUTPUT') return 'local-out';
  const w = word.toLowerCase().replace('_', '-');
  switch (w) {
    case 'input':
    case 'output':
    case 'forward':
    case 'prerouting':
    case 'postrouting':
    case 'local-in':
    case 'local-out':
      return w;
    default:
      return undefined;
  }
}

/** First and last divert port of a rule. */
export function portBounds(port: number | PortRange): PortRange {
  return typeof port === 'number' ? { first: port, last: port } : port;
}
