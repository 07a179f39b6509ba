/**
 * Checks a parsed filter against the field table: known fields, indices where (and only where)
 * a field takes one and within WinDivert's bounds, macros resolved to values. Every refusal is
 * a FilterSyntaxError pointing at the word to blame.
 * @module
 */
import { FilterSyntaxError } from '../errors.js';
import type { FilterAst, FilterNode, TestNode, ValueNode } from './ast.js';
import { FIELDS, MACROS, REFUSED_FIELDS, REFUSED_MACROS, suggestName } from './fields.js';
import { parseSyntax } from './parser.js';

/** WinDivert's WINDIVERT_MTU_MAX (40 + 0xFFFF): no index may name a byte past it. */
const MTU_MAX = 40 + 0xffff;

/**
 * Parses and checks `text`.
 * @throws {FilterSyntaxError} for any syntax error, unknown or refused field, bad index or macro.
 * @example parseFilter('outbound and tcp.DstPort == 80').root.kind // 'and'
 */
export function parseFilter(text: string): FilterAst {
  if (typeof text !== 'string') throw new TypeError(`A filter is a string, got ${text === null ? 'null' : typeof text}`);
  return { text, root: checkNode(text, parseSyntax(text)) };
}

function checkNode(text: string, n: FilterNode): FilterNode {
  switch (n.kind) {
    case 'test':
      return checkTest(text, n);
    case 'and':
    case 'or':
      return { ...n, args: n.args.map((a) => checkNode(text, a)) };
    case 'ternary':
      return { ...n, cond: checkNode(text, n.cond), then: checkNode(text, n.then), else: checkNode(text, n.else) };
  }
}

function checkTest(text: string, t: TestNode): TestNode {
  const info = FIELDS.get(t.field);
  if (!info) throw unknownField(text, t.field, t.fieldOffset);
  if (info.kind === 'array') {
    if (!t.index) {
      throw new FilterSyntaxError(`${t.field} needs an index: ${t.field}[0], ${t.field}[-1] (from the end) or ${t.field}[4b] (a byte offset)`, text, t.fieldOffset + t.field.length, { expected: ["'['"] });
    }
    const size = info.size!;
    const i = t.index;
    const bytes = i.bytes ? i.value : i.value * size;
    // WinDivertParseTest's bounds: a word index times the size, then 0..65535-size, or -size..-65535.
    const bad = i.value > MTU_MAX || (!i.negative && bytes > 0xffff - size) || (i.negative && (bytes > 0xffff || bytes < size));
    if (bad) {
      const range = i.negative ? `-${size}b..-65535b` : `0..${0xffff - size}b`;
      throw new FilterSyntaxError(`Index out of bounds: ${t.field}[${i.negative ? '-' : ''}${i.value}${i.bytes ? 'b' : ''}] names byte ${i.negative ? '-' : ''}${bytes}; the byte offset must be in ${range}`, text, i.offset, { expected: ['an index in bounds'] });
    }
  } else if (t.index) {
    throw new FilterSyntaxError(`${t.field} takes no index (only packet, packet16, packet32 and the tcp/udp Payload fields do)`, text, t.index.offset, { expected: ["an operator ('==', '<'…)", "'and'", "'or'"] });
  }
  return t.value?.form === 'macro' ? { ...t, value: resolveMacro(text, t.value) } : t;
}

function resolveMacro(text: string, v: ValueNode): ValueNode {
  const refused = REFUSED_MACROS.get(v.text);
  const at = v.offset + (v.negative ? 1 : 0);
  if (refused) throw new FilterSyntaxError(refused, text, at, { expected: ['a value'] });
  const value = MACROS.get(v.text);
  if (value === undefined) {
    const known = [...MACROS.keys()].slice(0, 7).join(', ');
    const hint = FIELDS.has(v.text) ? ` (${v.text} is a field: a test compares a field with a value)` : '';
    throw new FilterSyntaxError(`Unknown value ${JSON.stringify(v.text)}${hint}; macros are ${known}`, text, at, { expected: ['a number', 'an address', 'a macro'] });
  }
  return { ...v, value: v.negative ? -value : value };
}

function unknownField(text: string, name: string, at: number): FilterSyntaxError {
  const expected = ['a field'];
  const refused = REFUSED_FIELDS.get(name);
  if (refused) return new FilterSyntaxError(refused, text, at, { expected });
  const refusedMacro = REFUSED_MACROS.get(name);
  if (refusedMacro) return new FilterSyntaxError(refusedMacro, text, at, { expected });
  if (name === 'TRUE' || name === 'FALSE') {
    return new FilterSyntaxError(`${name} is a value, not a test: the test is written ${name.toLowerCase()}`, text, at, { expected });
  }
  if (MACROS.has(name)) {
    return new FilterSyntaxError(`${name} is a value, not a field: compare a field with it (protocol == ${name})`, text, at, { expected });
  }
  const suggestion = suggestName(name);
  const caseOnly = suggestion?.toLowerCase() === name.toLowerCase();
  const hint = suggestion ? ` (did you mean ${suggestion}?${caseOnly ? ' names are case-sensitive' : ''})` : '';
  return new FilterSyntaxError(`Unknown field ${JSON.stringify(name)}${hint}`, text, at, { expected });
}
