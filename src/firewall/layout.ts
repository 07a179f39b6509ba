/**
 * Where DIVERT rules live in nf_tables, and what each rule carries.
 *
 * ```
 * table inet divert            persistent rules (`divert rules add`, addRule(…, { persistent: true }))
 * table inet divert-<pid>      the rules process <pid> installs for itself; flags owner: the kernel
 *                              deletes it when the process's nf_tables socket closes (SIGKILL too)
 *   chain prerouting           type filter hook prerouting  priority -150 (mangle)   ← seed "input"
 *   chain local-in             type filter hook input       priority -150
 *   chain forward              type filter hook forward     priority -150
 *   chain local-out            type route  hook output      priority -150            (re-routes a changed packet)
 *   chain postrouting          type filter hook postrouting priority -150            ← seed "output"
 * ```
 * A process may choose its priority (WinDivert's meaning: higher sees packets first); its chains
 * then sit at `-150 - priority` and are named `<hook>@<priority>`. A packet one table reinjects
 * (NF_ACCEPT) goes on to the next table's chain at the same hook; within a chain the first
 * matching rule diverts, as in the seed. Rows are named `<table>:<handle>`.
 *
 * Each rule's user data holds, in libnftnl's TLV format: the comment nft shows (the rule's
 * canonical ipchains text, or the filter it was compiled from), the owner tag, and the kind
 * (`divert`, `defrag`, `filter`, or `sniff` for a rule that logs copies instead of diverting).
 * @module
 */
import { decodeUdata, encodeUdata, type Udata } from '../nftables/udata.js';
import type { Hook } from '../netlink/netfilter.js';
import { NFT_USERDATA_MAXLEN } from '../nftables/constants.js';
import { parseOwnerTag, ownerTag } from './owner.js';
import type { Owner } from './rule.js';

/** The shared table of persistent rules. */
export const SHARED_TABLE = 'divert';

/** The table of the rules process `pid` installs for itself. */
export function ownedTable(pid: number): string {
  return `${SHARED_TABLE}-${pid}`;
}

/** Whether a table is one of divert's: `divert` or `divert-<pid>`. */
export function isDivertTable(name: string): boolean {
  return name === SHARED_TABLE || /^divert-\d+$/.test(name);
}

/** The pid a `divert-<pid>` table belongs to (undefined for the shared table or others). */
export function tablePid(name: string): number | undefined {
  const m = /^divert-(\d+)$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Base-chain priority of iptables' mangle table, where divert's chains sit by default. */
export const MANGLE_PRIORITY = -150;
/** WinDivert's priority range (WINDIVERT_PRIORITY_HIGHEST/LOWEST). */
export const PRIORITY_MAX = 30000;

/**
 * Checks a divert priority (WinDivert's meaning: higher sees packets first).
 * @throws {RangeError} outside −30000…30000
 */
export function checkPriority(priority: number): void {
  if (typeof priority !== 'number' || !Number.isInteger(priority) || Math.abs(priority) > PRIORITY_MAX) {
    throw new RangeError(`priority must be an integer from -${PRIORITY_MAX} to ${PRIORITY_MAX} (higher sees packets first), got ${String(priority)}`);
  }
}

/** The nf_tables base-chain priority of a divert priority (lower runs first there). */
export function chainPriority(priority: number): number {
  return MANGLE_PRIORITY - priority;
}

/** The chain of a hook at a divert priority. */
export function chainName(hook: Hook, priority = 0): string {
  return priority === 0 ? hook : `${hook}@${priority}`;
}

/** Hook and priority of one of divert's chain names; undefined for another name. */
export function parseChainName(name: string): { hook: Hook; priority: number } | undefined {
  const m = /^(prerouting|local-in|forward|local-out|postrouting)(?:@(-?\d+))?$/.exec(name);
  if (!m) return undefined;
  return { hook: m[1] as Hook, priority: m[2] === undefined ? 0 : Number(m[2]) };
}

/** What a rule of ours is. */
export type RuleKind = 'divert' | 'defrag' | 'filter' | 'sniff';

/** The user data of one of our rules. */
export interface RuleNote {
  kind: RuleKind;
  /** The canonical rule text (`-A input -p icmp -j DIVERT 1234`), or a description of the defrag rule. */
  text: string;
  owner: Owner;
}

/** libnftnl's comment TLV, which nft shows as `comment "…"`. */
const UDATA_COMMENT = 0;
/** divert's own TLVs; nft ignores types it does not know. */
const UDATA_OWNER = 0xd1;
const UDATA_KIND = 0xd2;

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * The user data of a rule.
 * @throws {RangeError} when it would not fit in the kernel's 256 bytes (a very long rule).
 */
export function encodeNote(note: RuleNote): Uint8Array {
  const text = enc.encode(`${note.text}\0`);
  if (text.length > 255) throw new RangeError(`Rule text of ${text.length - 1} bytes is too long to store with the rule (at most 254): ${note.text}`);
  const items: Udata[] = [
    { type: UDATA_COMMENT, value: text },
    { type: UDATA_OWNER, value: enc.encode(ownerTag(note.owner)) },
    { type: UDATA_KIND, value: enc.encode(note.kind) },
  ];
  const size = items.reduce((n, u) => n + 2 + u.value.length, 0);
  if (size > NFT_USERDATA_MAXLEN) {
    throw new RangeError(`Rule ${JSON.stringify(note.text)} with its owner needs ${size} bytes of rule data; the kernel keeps at most ${NFT_USERDATA_MAXLEN}: shorten the rule or the owner label`);
  }
  return encodeUdata(items);
}

/** The note of one of our rules; undefined for user data divert did not write. */
export function decodeNote(bytes: Uint8Array | undefined): RuleNote | undefined {
  if (!bytes) return undefined;
  let items: Udata[];
  try {
    items = decodeUdata(bytes);
  } catch {
    return undefined;
  }
  const get = (type: number): string | undefined => {
    const v = items.find((u) => u.type === type)?.value;
    return v && dec.decode(v).replace(/\0+$/, '');
  };
  const text = get(UDATA_COMMENT);
  const owner = parseOwnerTag(get(UDATA_OWNER) ?? '');
  const kind = get(UDATA_KIND);
  if (text === undefined || !owner || (kind !== 'divert' && kind !== 'defrag' && kind !== 'filter' && kind !== 'sniff')) return undefined;
  return { kind, text, owner };
}

/** The text stored for the defrag rule of a family. */
export function defragText(family: 'ipv4' | 'ipv6'): string {
  return `always-defragment ${family}`;
}

/** Longest filter text kept in a rule's note (the note holds 254 bytes of text at most). */
const FILTER_NOTE_MAX = 180;

/**
 * The text stored for a rule compiled from a filter: `filter <family> -j DIVERT <port> "<filter>"`,
 * the filter cut short (with "…") when it is long; the whole filter lives in the program.
 */
export function filterText(family: 'ipv4' | 'ipv6', port: string, filter: string): string {
  const cut = filter.length > FILTER_NOTE_MAX ? `${filter.slice(0, FILTER_NOTE_MAX)}…` : filter;
  return `filter ${family} -j DIVERT ${port} "${cut}"`;
}

/**
 * The text stored for a sniffing rule: the DIVERT text (a rule's, or a filter's
 * {@link filterText}) with `-j SNIFF <port>` for its target, the port being the NFLOG group.
 */
export function sniffText(divertText: string): string {
  return divertText.replace(/ -j DIVERT (\d+(?::\d+)?)(?: --pass-through)?/, ' -j SNIFF $1');
}

/** The DIVERT text a sniffing rule's text was made from (for parsing it back). */
export function unsniffText(text: string): string {
  return text.replace(/ -j SNIFF (\d+(?::\d+)?)/, ' -j DIVERT $1');
}
