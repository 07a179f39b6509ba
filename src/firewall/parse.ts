/**
 * ipchains rule text → {@link DivertRule}: `-A input -p ICMP -j DIVERT 1234`.
 *
 * Accepted words (ipchains 1.3.9 plus a few iptables spellings):
 * `-A|-I [pos]|-D <chain>` (or the chain alone), `-4`, `-6`, `-p [!] <proto>`,
 * `-s|-d [!] <addr>[/<mask>] [[!] <port>[:<port>]]`, `--sport|--dport [!] <port>[:<port>]`,
 * `--icmp-type [!] <type>[/<code>]`, `-i|-o [!] <iface>`, `-j DIVERT <port>[:<port>]`,
 * `--pass-through`. `!` may also come before the option, iptables style (`! -p tcp`).
 * A value that is missing (`-s -j DIVERT 4321`, as the seed's §6.4 text reads after its address
 * was lost in formatting) is an error naming the word, never a guess.
 * @module
 */
import type { Cursor, Word } from './_words.js';
import { Cursor as WordCursor } from './_words.js';
import { resolveChain, type DivertChain, type Family, type DivertRule, type Endpoint, type PortMatch, type PortRange } from './rule.js';
import { icmpTypeNumber, protocolNumber } from '../ip/protocols.js';
import { netmaskPrefix, tryParseIpv4, tryParseIpv6 } from '../ip/address.js';
import { interfaceNameProblem } from './validate.js';
import { MAX_DIVERT_SPAN, validatePosition } from './validate_rule.js';
import { checkRule, type Draft } from './_check.js';

/** What a command does with its rule: `-A` append, `-I` insert, `-D` delete. */
export type RuleOp = 'append' | 'insert' | 'delete';

/** A parsed ipchains command: the operation, the insert position (1-based) and the rule. */
export interface RuleCommand {
  /** The operation; `append` when the words name none. */
  readonly op: RuleOp;
  /** `-I <chain> <n>`: the 1-based place to insert at; absent otherwise. */
  readonly position?: number;
  /** The rule the command names. */
  readonly rule: DivertRule;
}

// NB: the word tables are Maps, never object literals: a user's word such as "constructor" or
// "__proto__" must not find what every object inherits.
const OPS: ReadonlyMap<string, RuleOp> = new Map([
  ['-A', 'append'], ['--append', 'append'], ['-I', 'insert'], ['--insert', 'insert'], ['-D', 'delete'], ['--delete', 'delete'],
]);

/**
 * Parses ipchains words (a string, or argv words) into an operation and a rule.
 * @throws FilterSyntaxError naming the bad word and how to fix it; RangeError for a number out of range.
 * @example parseRuleCommand('-I input 2 -p udp -j DIVERT 7').position // 2
 */
export function parseRuleCommand(input: string | readonly string[]): RuleCommand {
  const c = new WordCursor(input);
  let op: RuleOp = 'append';
  let position: number | undefined;
  const first = c.peek();
  const named = first === undefined ? undefined : OPS.get(first.text);
  if (named !== undefined) {
    c.next();
    op = named;
  }
  const chainWord = c.value(named !== undefined && first ? first : { text: 'the rule', offset: 0 }, 'a chain', 'one of input, output, forward, prerouting, local-in, local-out, postrouting');
  const chain = resolveChain(chainWord.text);
  if (!chain) throw c.error(`Unknown chain ${JSON.stringify(chainWord.text)}: use input, output or forward (seed chains) or prerouting, local-in, local-out, postrouting`, chainWord);
  if (op === 'insert' && /^\d+$/.test(c.peek()?.text ?? '')) position = parsePosition(c);
  const rule = checkRule(parseOptions(c, chain), c);
  return position === undefined ? { op, rule } : { op, position, rule };
}

/**
 * Parses one rule in ipchains syntax; a leading `-A`/`-I`/`-D` is accepted and ignored.
 * @example parseRule('-A input -p ICMP -j DIVERT 1234').port // 1234
 */
export function parseRule(input: string | readonly string[]): DivertRule {
  return parseRuleCommand(input).rule;
}

function parsePosition(c: Cursor): number {
  const w = c.next() as Word;
  const n = Number(w.text);
  if (n < 1 || n > 65535) throw new RangeError(`Insert position ${w.text} is out of range 1–65535`);
  return validatePosition(n);
}

/** Reads options until the end of the text into a draft rule. */
function parseOptions(c: Cursor, chain: DivertChain): Draft {
  const d: Draft = { chain, passThrough: false, seen: new Set() };
  while (c.peek()) {
    let w = c.next() as Word;
    let negated = false;
    if (w.text === '!') {
      negated = true;
      const after = c.next();
      if (!after || !after.text.startsWith('-')) throw c.error('"!" must be followed by an option to negate (e.g. ! -p tcp) or come right after it (-p ! tcp)', after ?? w);
      w = after;
    }
    parseOption(c, d, w, negated);
  }
  return d;
}

/** One option word (already past any leading `!`). */
function parseOption(c: Cursor, d: Draft, w: Word, negated: boolean): void {
  const name = ALIASES.get(w.text) ?? w.text;
  if (negated && !NEGATABLE.has(name)) throw c.error(`${w.text} cannot be negated with "!"`, w);
  if (name !== '-j' && d.seen.has(name)) throw c.error(`${w.text} is given twice: give each option once`, w);
  d.seen.add(name);
  switch (name) {
    case '-4': case '-6': return setFamily(c, d, w, name === '-6' ? 'ipv6' : 'ipv4');
    case '-p': return parseProtocol(c, d, w, negated);
    case '-s': [d.source, d.sourceFamily] = parseEndpoint(c, w, negated); d.sourceAt = w; return;
    case '-d': [d.destination, d.destinationFamily] = parseEndpoint(c, w, negated); d.destinationAt = w; return;
    case '--sport': case '--dport': return parsePortOption(c, d, w, name, negated);
    case '--icmp-type': return parseIcmpType(c, d, w, negated);
    case '-i': case '-o': return parseInterface(c, d, w, name, negated);
    case '-j': return parseTarget(c, d, w);
    case '--pass-through': d.passThrough = true; return;
    case '--queue-cpu-fanout': d.cpuFanout = true; d.cpuFanoutAt = w; return;
    default:
      throw c.error(`Unknown option ${JSON.stringify(w.text)}: see "divert rules --help" for -p, -s, -d, --sport, --dport, --icmp-type, -i, -o, -j DIVERT, --pass-through, --queue-cpu-fanout, -6`, w);
  }
}

const ALIASES: ReadonlyMap<string, string> = new Map([
  ['--protocol', '-p'], ['--source', '-s'], ['--src', '-s'], ['--destination', '-d'], ['--dst', '-d'],
  ['--source-port', '--sport'], ['--destination-port', '--dport'], ['--in-interface', '-i'], ['--interface', '-i'],
  ['--out-interface', '-o'], ['--jump', '-j'], ['--icmpv6-type', '--icmp-type'], ['--ipv4', '-4'], ['--ipv6', '-6'],
]);
const NEGATABLE = new Set(['-p', '-s', '-d', '--sport', '--dport', '--icmp-type', '-i', '-o']);

function setFamily(c: Cursor, d: Draft, w: Word, family: 'ipv4' | 'ipv6'): void {
  if (d.family && d.family !== family) throw c.error(`${w.text} contradicts the other family flag: give -4 or -6, not both`, w);
  d.family = family;
  d.familyAt = w;
}

/** `!` right after the option (ipchains style). */
function innerNot(c: Cursor, negated: boolean, w: Word): boolean {
  if (c.peek()?.text !== '!') return negated;
  if (negated || c.peek(1)?.text === '!') throw c.error(`${w.text} is negated twice: give one "!"`, c.peek());
  c.next();
  return true;
}

function parseProtocol(c: Cursor, d: Draft, w: Word, negated: boolean): void {
  negated = innerNot(c, negated, w);
  const v = c.value(w, 'a protocol', 'a name such as tcp, udp, icmp, icmpv6, or a number 0–255, or all');
  let num: number | undefined;
  if (/^\d+$/.test(v.text)) {
    num = Number(v.text);
    if (num > 255) throw new RangeError(`Protocol number ${v.text} is out of range 0–255`);
  } else if (v.text.toLowerCase() === 'all') {
    num = 0;
  } else {
    num = protocolNumber(v.text);
    if (num === undefined) throw c.error(`Unknown protocol ${JSON.stringify(v.text)}: use tcp, udp, icmp, icmpv6, sctp, gre, esp, ah, all or a number 0–255`, v);
  }
  if (num === 0 && negated) throw c.error('"! -p all" matches no packet: remove the "!"', v);
  if (num !== 0) d.protocol = { number: num, negated };
  d.protocolAt = v;
}

const PORT_WORD = /^(\d+(:\d*)?|:\d+)$/;

/**
 * `-s [!] addr[/mask] [[!] port[:port]]`, and the address's family: `::/0` is IPv6 "any" (the
 * address is dropped, the family kept); `0/0` is "any" of either family.
 */
function parseEndpoint(c: Cursor, w: Word, negated: boolean): [Endpoint, Family | undefined] {
  negated = innerNot(c, negated, w);
  const hint = w.text === '-s' || w.text.startsWith('--s')
    ? 'write an address such as -s 198.18.0.1 or 198.18.0.0/15, or 0/0 for any; the seed\'s "-s -j DIVERT 4321" lost its address in formatting'
    : 'write an address such as -d 198.18.0.1 or 2001:db8::/32, or 0/0 for any';
  const v = c.value(w, 'an address', hint);
  const { address, prefix } = parseAddress(c, v);
  if (negated && prefix === 0) throw c.error(`"! ${w.text} ${v.text}" matches no packet: remove the "!"`, v);
  let ports: PortMatch | undefined;
  const p = c.peek();
  const p2 = c.peek(1);
  if (p && PORT_WORD.test(p.text)) {
    c.next();
    ports = portMatch(c, p, false);
  } else if (p?.text === '!' && p2 && PORT_WORD.test(p2.text)) {
    c.pos += 2;
    ports = portMatch(c, p2, true);
  }
  const family: Family | undefined = address.includes(':') ? 'ipv6' : v.text.startsWith('0/') ? undefined : 'ipv4';
  return [{ ...(prefix === 0 ? {} : { address, prefix }), negated: prefix === 0 ? false : negated, ...(ports ? { ports } : {}) }, family];
}

function parseAddress(c: Cursor, v: Word): { address: string; prefix: number } {
  const [addr = '', mask, extra] = v.text.split('/');
  const six = addr.includes(':');
  const ok = six ? tryParseIpv6(addr) : addr === '0' || tryParseIpv4(addr) !== undefined;
  if (ok === undefined || ok === false || extra !== undefined) {
    const why = /[a-z]/i.test(addr) && !six ? 'host names are not resolved: give an IP address' : 'expected a.b.c.d[/len] or an IPv6 address[/len]';
    throw c.error(`Bad address ${JSON.stringify(v.text)}: ${why}`, v);
  }
  const max = six ? 128 : 32;
  let prefix = max;
  if (mask !== undefined) {
    const m = /^\d{1,3}$/.test(mask) ? Number(mask) : six ? undefined : netmaskPrefix(mask);
    if (m === undefined || m > max) throw c.error(`Bad mask ${JSON.stringify(mask)} in ${JSON.stringify(v.text)}: use a prefix length 0–${max}${six ? '' : ' or a contiguous netmask such as 255.255.255.0'}`, v);
    prefix = m;
  } else if (addr === '0') {
    throw c.error(`Bad address "0": write 0/0 for any address`, v);
  }
  return { address: addr === '0' ? '0.0.0.0' : addr, prefix };
}

/** `80`, `1024:65535`, `1024:` (to 65535), `:1023` (from 0). */
export function parsePortRange(c: Cursor, w: Word, what = 'Port'): PortRange {
  if (!PORT_WORD.test(w.text)) throw c.error(`Bad port ${JSON.stringify(w.text)}: give a number 0–65535 or a range first:last (service names are not looked up)`, w);
  const [a = '', b] = w.text.split(':');
  const first = a === '' ? 0 : Number(a);
  const last = b === undefined ? first : b === '' ? 65535 : Number(b);
  for (const n of [first, last]) if (n > 65535) throw new RangeError(`${what} ${n} in ${JSON.stringify(w.text)} is out of range 0–65535`);
  if (first > last) throw c.error(`Port range ${JSON.stringify(w.text)} is reversed: write ${last}:${first}`, w);
  return { first, last };
}

function portMatch(c: Cursor, w: Word, negated: boolean): PortMatch {
  return { ...parsePortRange(c, w), negated };
}

function parsePortOption(c: Cursor, d: Draft, w: Word, name: '--sport' | '--dport', negated: boolean): void {
  negated = innerNot(c, negated, w);
  const v = c.value(w, 'a port', 'a number 0–65535 or a range such as 1024:65535');
  const ports = portMatch(c, v, negated);
  if (name === '--sport') d.sport = { ports, at: w };
  else d.dport = { ports, at: w };
}

function parseIcmpType(c: Cursor, d: Draft, w: Word, negated: boolean): void {
  negated = innerNot(c, negated, w);
  const v = c.value(w, 'an ICMP type', 'a number such as 8 or 8/0, or a name such as echo-request');
  const [t = '', code, extra] = v.text.split('/');
  // A name is resolved in checkRule, once the family is known (-6 may come later).
  const known = icmpTypeNumber(t, false) !== undefined || icmpTypeNumber(t, true) !== undefined;
  const type = /^\d+$/.test(t) ? Number(t) : known ? t : undefined;
  if (type === undefined || extra !== undefined || (code !== undefined && !/^\d+$/.test(code))) {
    throw c.error(`Bad ICMP type ${JSON.stringify(v.text)}: give type[/code] as numbers (e.g. 8/0) or a name such as echo-request`, v);
  }
  if (Number(typeof type === 'number' ? type : 0) > 255 || Number(code ?? 0) > 255) throw new RangeError(`ICMP type/code ${v.text} is out of range 0–255`);
  d.icmpType = { type, ...(code === undefined ? {} : { code: Number(code) }), negated };
  d.icmpAt = w;
  d.icmpValue = v;
}

function parseInterface(c: Cursor, d: Draft, w: Word, name: '-i' | '-o', negated: boolean): void {
  negated = innerNot(c, negated, w);
  const v = c.value(w, 'an interface name', 'e.g. eth0, or veth+ for every name starting with veth');
  const problem = interfaceNameProblem(v.text);
  if (problem) throw c.error(`Bad interface name ${JSON.stringify(v.text)}: ${problem} (e.g. eth0, or veth+ for every name starting with veth)`, v);
  const m = { name: v.text, negated };
  if (name === '-i') [d.inInterface, d.inAt] = [m, w];
  else [d.outInterface, d.outAt] = [m, w];
}

function parseTarget(c: Cursor, d: Draft, w: Word): void {
  if (d.port !== undefined) throw c.error(`${w.text} is given twice: a rule has one target`, w);
  const t = c.value(w, 'a target', 'write -j DIVERT <port>');
  if (t.text.toUpperCase() !== 'DIVERT') throw c.error(`Unsupported target ${JSON.stringify(t.text)}: divert rules only take -j DIVERT <port> (use iptables for other targets)`, t);
  const v = c.value(t, 'a divert port', 'a number 0–65535, or first:last to spread flows over several ports');
  if (!/^\d+(:\d+)?$/.test(v.text)) throw c.error(`Bad divert port ${JSON.stringify(v.text)}: give a number 0–65535 or first:last (e.g. 1234 or 1234:1237)`, v);
  const r = parsePortRange(c, v, 'Divert port');
  if (r.last - r.first > MAX_DIVERT_SPAN - 1) throw c.error(`Divert port range ${JSON.stringify(v.text)} spans ${r.last - r.first + 1} ports: at most ${MAX_DIVERT_SPAN} (e.g. 0:65534)`, v);
  d.port = r.first === r.last ? r.first : r;
}
