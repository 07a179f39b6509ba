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

/** Where a node came from in the filter text. */
export interface Span {
  /** UTF-16 offset of its first character. */
  readonly offset: number;
  /** UTF-16 offset just past its last character. */
  readonly end: number;
}

/** `[i]`, `[-i]`, `[ib]`, `[-ib]`. */
export interface IndexNode extends Span {
  /** The number written (words unless `bytes`). */
  readonly value: number;
  /** Written with a leading `-`: counted from the end. */
  readonly negative: boolean;
  /** Written with the `b` suffix: a byte offset. */
  readonly bytes: boolean;
}

/** A literal value, its sign applied. */
export interface ValueNode extends Span {
  /** The value, its sign applied (an address as a number). */
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
  /** Marks a test. */
  readonly kind: 'test';
  /** An odd number of `not`/`!` came before the field. */
  readonly not: boolean;
  /** The field name as written (`tcp.DstPort`, `outbound`). */
  readonly field: string;
  /** UTF-16 offset of the field name in the text. */
  readonly fieldOffset: number;
  /** The index of an array field (`tcp.Payload[0]`, `tcp.Payload32[-1]`, `tcp.Payload[4b]`). */
  readonly index?: IndexNode | undefined;
  /** The comparison; absent for a bare field. */
  readonly op?: Op | undefined;
  /** The value compared with; absent for a bare field. */
  readonly value?: ValueNode | undefined;
}

/** `a and b and …`: true when every argument is. */
export interface AndNode extends Span {
  /** Marks a conjunction. */
  readonly kind: 'and';
  /** The conjuncts, two or more, in text order. */
  readonly args: readonly FilterNode[];
}

/** `a or b or …`: true when any argument is. */
export interface OrNode extends Span {
  /** Marks a disjunction. */
  readonly kind: 'or';
  /** The disjuncts, two or more, in text order. */
  readonly args: readonly FilterNode[];
}

/** `( cond ? then : else )`. */
export interface TernaryNode extends Span {
  /** Marks a conditional. */
  readonly kind: 'ternary';
  /** The condition. */
  readonly cond: FilterNode;
  /** What the node is when `cond` is true. */
  readonly then: FilterNode;
  /** What the node is when `cond` is false. */
  readonly else: FilterNode;
}

/** Any node of the tree. */
export type FilterNode = TestNode | AndNode | OrNode | TernaryNode;

/** A parsed and checked filter with the text it came from. */
export interface FilterAst {
  /** The filter text as given to the parser. */
  readonly text: string;
  /** The top node. */
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
