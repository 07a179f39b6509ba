/**
 * The DIVERT rule model and the chain mapping (seed §6.2 → netfilter).
 *
 * ```
 *  seed / rule chain      netfilter hook   who passes it
 *  input                  prerouting       every packet that comes in (local or to forward)
 *  forward                forward          forwarded packets only
 *  output                 postrouting      every packet that goes out (local or forwarded)
 *  prerouting             prerouting       (the hook's own name; same as input)
 *  local-in,  INPUT       local-in         packets addressed to this host
 *  local-out, OUTPUT      local-out        packets this host originates
 *  postrouting            postrouting      (the hook's own name; same as output)
 * ```
 * A forwarded packet meets input, forward, output in that order, as in the seed. `input` and
 * `output` are names of the rule language only (the seed's chains); everywhere else divert
 * names the hook. Chain names match in any case, except that `input`/`output` mean the seed
 * chains unless written all upper case: `INPUT`/`OUTPUT` are iptables' own chains
 * (local-in/local-out).
 * @module
 */
import type { Hook } from '../netlink/netfilter.js';

export type { Hook } from '../netlink/netfilter.js';

/** Chain names as the user writes them (canonical lower case). */
export type DivertChain = 'input' | 'output' | 'forward' | 'prerouting' | 'local-in' | 'local-out' | 'postrouting';

/** The IP version a rule matches. */
export type Family = 'ipv4' | 'ipv6';

/** Inclusive port range; a single port has `first === last`. */
export interface PortRange {
  /** First port (0–65535). */
  readonly first: number;
  /** Last port (0–65535), inclusive; not below `first`. */
  readonly last: number;
}

/** `--sport`/`--dport`: a port or range, optionally negated (`!`). */
export interface PortMatch extends PortRange {
  /** True to match ports outside the range. */
  readonly negated: boolean;
}

/** `-s`/`-d`: an address with prefix length, optionally negated, and the ports of that side. */
export interface Endpoint {
  /** Address as written (IPv4 dotted quad or IPv6); absent for "any" (`0/0`). */
  readonly address?: string;
  /** Prefix length (1–32 for IPv4, 1–128 for IPv6); absent means the whole address. */
  readonly prefix?: number;
  /** True to match addresses outside the prefix (`-s ! …`); needs `address`. */
  readonly negated: boolean;
  /** Ports on this side (protocol tcp, udp, sctp or dccp only); absent for any port. */
  readonly ports?: PortMatch;
}

/** `-i`/`-o`: a network interface, optionally negated. */
export interface InterfaceMatch {
  /** Interface name as written; a trailing `+` matches every name with that prefix. */
  readonly name: string;
  /** True to match packets on any other interface. */
  readonly negated: boolean;
}

/** `-p`: an IP protocol, optionally negated. */
export interface ProtocolMatch {
  /** IANA protocol number (0–255). */
  readonly number: number;
  /** True to match every other protocol. */
  readonly negated: boolean;
}

/** `--icmp-type`: an ICMP or ICMPv6 type and optional code. */
export interface IcmpTypeMatch {
  /** ICMP type (0–255); an ICMPv6 type in an `ipv6` rule. */
  readonly type: number;
  /** ICMP code (0–255); absent for any code. */
  readonly code?: number;
  /** True to match every other type/code. */
  readonly negated: boolean;
}

/** Who owns a rule: a live process (pid + start time) or the CLI (persistent). */
export type Owner =
  | {
      /** A process: its rules go when it exits. */
      readonly kind: 'process';
      /** The owning process's id. */
      readonly pid: number;
      /** Its start time (`/proc/<pid>/stat` field 22, clock ticks since boot), so a reused pid is not taken for the owner. */
      readonly startTime: number;
      /** Optional name the owner gave its rules (1–32 characters from A-Z a-z 0-9 _ . -). */
      readonly label?: string;
    }
  | {
      /** The `divert` command: the rules stay until deleted (persistent). */
      readonly kind: 'cli';
      /** Optional name the owner gave its rules (1–32 characters from A-Z a-z 0-9 _ . -). */
      readonly label?: string;
    };

/** One DIVERT rule, as `-A <chain> … -j DIVERT <port>` says it. */
export interface DivertRule {
  /** Where the rule sits (see the module comment for the hook each name means). */
  readonly chain: DivertChain;
  /** IPv4 or IPv6. */
  readonly family: Family;
  /** Absent means every protocol (`-p all`). */
  readonly protocol?: ProtocolMatch;
  /** `-s`: the source address and ports; absent for any. */
  readonly source?: Endpoint;
  /** `-d`: the destination address and ports; absent for any. */
  readonly destination?: Endpoint;
  /** `-i`: the input interface; only where packets have one (not local-out, postrouting). */
  readonly inInterface?: InterfaceMatch;
  /** `-o`: the output interface; only where packets have one (not prerouting, local-in). */
  readonly outInterface?: InterfaceMatch;
  /** `--icmp-type`: with `-p icmp` (ipv4) or `-p icmpv6` (ipv6) only. */
  readonly icmpType?: IcmpTypeMatch;
  /** Divert port = NFQUEUE queue number; a range spreads flows over several queues. */
  readonly port: number | PortRange;
  /** No listener on the port: let packets continue (`--queue-bypass`) instead of dropping them. */
  readonly passThrough: boolean;
  /**
   * With a port range: queue by the CPU that handles the packet (`--queue-cpu-fanout`) instead of
   * by a hash of its addresses. Keeps a CPU's packets on one queue, not a flow's.
   */
  readonly cpuFanout?: boolean;
  /** Set on rules read back from the kernel; ignored when installing (see `addRule` options). */
  readonly owner?: Owner;
}

/**
 * A frozen table without a prototype: indexing it with a word that is not one of its keys
 * (`constructor`, `__proto__`, `toString` …) gives `undefined`, never an inherited member.
 */
function exactTable<K extends string, V>(entries: Record<K, V>): Readonly<Record<K, V>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<K, V>, entries));
}

/** Seed/user chain → netfilter hook. */
export const CHAIN_HOOK: Readonly<Record<DivertChain, Hook>> = exactTable({
  input: 'prerouting',
  prerouting: 'prerouting',
  'local-in': 'local-in',
  forward: 'forward',
  'local-out': 'local-out',
  output: 'postrouting',
  postrouting: 'postrouting',
});

/** Netfilter hook → the chain name `list` shows (the seed's name where there is one). */
export const HOOK_CHAIN: Readonly<Record<Hook, DivertChain>> = exactTable({
  prerouting: 'input',
  'local-in': 'local-in',
  forward: 'forward',
  'local-out': 'local-out',
  postrouting: 'output',
});

/** Hooks where a packet has an input device (`-i` can match). */
export function hasInInterface(hook: Hook): boolean {
  return hook !== 'local-out' && hook !== 'postrouting';
}

/** Hooks where a packet has an output device (`-o` can match). */
export function hasOutInterface(hook: Hook): boolean {
  return hook !== 'prerouting' && hook !== 'local-in';
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
