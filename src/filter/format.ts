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
export function formatValue(field: string, value: bigint, written?: ValueNode): string {
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
  return [24n, 16n, 8n, 0n].map((s) => ((v >> s) & 0xffn).toString()).join('.');
}

/** RFC 5952 text: lower case, the longest run of two or more zero groups as `::`. */
export function ipv6Text(v: bigint): string {
  const g: number[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) g.push(Number((v >> s) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}
