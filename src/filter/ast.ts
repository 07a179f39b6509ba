/**
 * The filter AST: what the parser builds and everything else reads. Every node carries the
 * UTF-16 offsets of the text it came from (`offset` inclusive, `end` exclusive), so a later
 * check can point at it with a caret.
 *
 * ```
 * filter  := or
 * or      := and ( ('or' | '||') and )*
 * and     := arg ( ('and' | '&&') arg )*
 * arg     := '(' or ')' | '(' or '?' or ':' or ')' | test
 * test    := ('not' | '!')* field [ '[' ['-'] index ['b'] ']' ] [ op ['-'] value ]
 * op      := '==' | '=' | '!=' | '<' | '<=' | '>' | '>='
 * value   := decimal | 0xhex | IPv4 | IPv6 | MACRO
 * ```
 * @module
 */

/** A comparison operator (`=` is parsed as `==`). */
export type Op = '==' | '!=' | '<' | '<=' | '>' | '>=';

export interface Span {
  readonly offset: number;
  readonly end: number;
}

/** `[i]`, `[-i]`, `[ib]`, `[-ib]`. */
export interface IndexNode extends Span {
  /** The number written (words unless `bytes`). */
  readonly value: number;
  readonly negative: boolean;
  /** Written with the `b` suffix: a byte offset. */
  readonly bytes: boolean;
}

/** A literal value, its sign applied. */
export interface ValueNode extends Span {
  readonly value: bigint;
  /** How it was written: a number, an address, or a macro name. */
  readonly form: 'decimal' | 'hex' | 'ipv4' | 'ipv6' | 'macro';
  /** The source text (without the sign). */
  readonly text: string;
  /** Written with a leading `-`. */
  readonly negative: boolean;
}

/**
 * One test. Without `op` it is WinDivert's bare field: `field != 0`, or `field == 0` with an
 * odd number of `not`s. With `op`, an odd number of `not`s inverts the operator (WinDivert's
 * `not` does not negate: `not tcp.DstPort == 80` is false on a UDP packet).
 */
export interface TestNode extends Span {
  readonly kind: 'test';
  /** An odd number of `not`/`!` came before the field. */
  readonly not: boolean;
  readonly field: string;
  readonly fieldOffset: number;
  readonly index?: IndexNode | undefined;
  readonly op?: Op | undefined;
  readonly value?: ValueNode | undefined;
}

export interface AndNode extends Span {
  readonly kind: 'and';
  readonly args: readonly FilterNode[];
}

export interface OrNode extends Span {
  readonly kind: 'or';
  readonly args: readonly FilterNode[];
}

/** `( cond ? then : else )`. */
export interface TernaryNode extends Span {
  readonly kind: 'ternary';
  readonly cond: FilterNode;
  readonly then: FilterNode;
  readonly else: FilterNode;
}

export type FilterNode = TestNode | AndNode | OrNode | TernaryNode;

/** A parsed and checked filter with the text it came from. */
export interface FilterAst {
  readonly text: string;
  readonly root: FilterNode;
}

/** The inverse comparison (what `not` does to a test). */
export function invertOp(op: Op): Op {
  switch (op) {
    case '==': return '!=';
    case '!=': return '==';
    case '<': return '>=';
    case '<=': return '>';
    case '>': return '<=';
    case '>=': return '<';
  }
}

/** The comparison a test makes, `not` and the bare form resolved: `{ op, value }`. */
export function effectiveTest(t: TestNode): { op: Op; value: bigint } {
  if (t.op === undefined || t.value === undefined) return { op: t.not ? '==' : '!=', value: 0n };
  return { op: t.not ? invertOp(t.op) : t.op, value: t.value.value };
}

/**
 * The byte offset an index names: words times the element size unless written with `b`;
 * negative counts from the end (`-1` is the last whole element).
 */
export function indexOffset(index: IndexNode, size: number): number {
  const n = index.bytes ? index.value : index.value * size;
  return index.negative ? -n : n;
}
