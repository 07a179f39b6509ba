/**
 * `formatFilter`: a filter's canonical text. Keywords are words (`and`, `or`, `not`), operators
 * `==`-style, one space around each, parentheses only where `or` sits inside `and`, ternaries as
 * `(c ? t : e)`. A `not` in front of a comparison is folded into its operator (`not x == 1` is
 * `x != 1`: the same test in WinDivert); a bare `not field` stays. Addresses print as addresses
 * (IPv4 for ::ffff:a.b.c.d), hex stays hex, macros keep their names. Parsing the canonical text
 * gives the same tests.
 * @module
 */
import { effectiveTest, type FilterAst, type FilterNode, type TestNode, type ValueNode } from './ast.js';
import { parseFilter } from './check.js';
import { FIELDS } from './fields.js';
import { formatIpv4, formatIpv6 } from '../ip/address.js';
import { bigToBytes } from './_bytes.js';

/**
 * The canonical text of a filter (text or parsed).
 * @throws {FilterSyntaxError} when `filter` is text that does not parse.
 * @example formatFilter('!tcp&&udp.DstPort=53') // 'not tcp and udp.DstPort == 53'
 */
export function formatFilter(filter: string | FilterAst): string {
  const ast = typeof filter === 'string' ? parseFilter(filter) : filter;
  return node(ast.root, 'top');
}

function node(n: FilterNode, ctx: 'top' | 'and' | 'or'): string {
  switch (n.kind) {
    case 'test':
      return test(n);
    case 'and':
      return n.args.map((a) => node(a, 'and')).join(' and ');
    case 'or': {
      const s = n.args.map((a) => node(a, 'or')).join(' or ');
      return ctx === 'and' ? `(${s})` : s;
    }
    case 'ternary':
      return `(${node(n.cond, 'top')} ? ${node(n.then, 'top')} : ${node(n.else, 'top')})`;
  }
}

function test(t: TestNode): string {
  const index = t.index ? `[${t.index.negative ? '-' : ''}${t.index.value}${t.index.bytes ? 'b' : ''}]` : '';
  if (t.op === undefined || t.value === undefined) return `${t.not ? 'not ' : ''}${t.field}${index}`;
  const { op, value } = effectiveTest(t);
  return `${t.field}${index} ${op} ${formatValue(t.field, value, t.value)}`;
}

/** A value as canonical text: by the field's kind and the way it was written. */
function formatValue(field: string, value: bigint, written?: ValueNode): string {
  if (written?.form === 'macro') return `${written.negative ? '-' : ''}${written.text}`;
  if (value < 0n) return `-${written?.form === 'hex' ? `0x${(-value).toString(16)}` : (-value).toString()}`;
  const info = FIELDS.get(field);
  if (info?.kind === 'address' || written?.form === 'ipv4' || written?.form === 'ipv6') {
    if (value >> 32n === 0xffffn) return ipv4Text(value & 0xffff_ffffn);
    return ipv6Text(value);
  }
  return written?.form === 'hex' ? `0x${value.toString(16)}` : value.toString();
}

function ipv4Text(v: bigint): string {
  return formatIpv4(bigToBytes(v, 4));
}

/** RFC 5952 text: lower case, the longest run of two or more zero groups as `::`. */
export function ipv6Text(v: bigint): string {
  return formatIpv6(bigToBytes(v, 16));
}
