/**
 * Recursive-descent parser for WinDivert's filter language: tokens in, AST out (see ast.ts for
 * the grammar). It only builds the tree; check.ts decides whether the fields and indices make
 * sense. `and` binds tighter than `or`; a ternary lives inside parentheses; `not` applies to a
 * single test, as in WinDivert (`not (a or b)` is refused with a hint).
 * @module
 */
import { FilterSyntaxError } from '../errors.js';
import type { FilterNode, IndexNode, Op, TestNode, ValueNode } from './ast.js';
import { tokenize, type Token } from './lexer.js';

/** Deepest nesting of parentheses and operators accepted (the parser recurses on it). */
const MAX_DEPTH = 1200;

const TEST_START = ['a field (tcp.DstPort, ip, outbound…)', "'not'", "'('"];
const AFTER_TEST = ["'and'", "'or'", 'the end of the filter'];

/**
 * Parses `text` into an AST (unchecked: fields may be unknown; see `parseFilter` in check.ts).
 * @throws {FilterSyntaxError} with the offset of the offending token and what was expected.
 */
export function parseSyntax(text: string): FilterNode {
  const p = new Parser(text, tokenize(text));
  const root = p.or(0);
  p.expectEnd();
  return root;
}

class Parser {
  readonly #text: string;
  readonly #toks: Token[];
  #i = 0;

  constructor(text: string, toks: Token[]) {
    this.#text = text;
    this.#toks = toks;
  }

  get #tok(): Token {
    return this.#toks[this.#i]!;
  }

  #next(): Token {
    const t = this.#tok;
    if (t.kind !== 'end') this.#i++;
    return t;
  }

  or(depth: number): FilterNode {
    this.#deep(depth);
    const first = this.and(depth + 1);
    if (this.#tok.kind !== 'or') return first;
    const args: FilterNode[] = [first];
    while (this.#tok.kind === 'or') {
      this.#next();
      args.push(this.and(depth + 1));
    }
    return { kind: 'or', args, offset: first.offset, end: args[args.length - 1]!.end };
  }

  and(depth: number): FilterNode {
    this.#deep(depth);
    const first = this.arg(depth + 1);
    if (this.#tok.kind !== 'and') return first;
    const args: FilterNode[] = [first];
    while (this.#tok.kind === 'and') {
      this.#next();
      args.push(this.arg(depth + 1));
    }
    return { kind: 'and', args, offset: first.offset, end: args[args.length - 1]!.end };
  }

  arg(depth: number): FilterNode {
    this.#deep(depth);
    const open = this.#tok;
    if (open.kind !== '(') return this.test();
    this.#next();
    const inner = this.or(depth + 1);
    const t = this.#tok;
    if (t.kind === ')') {
      this.#next();
      return inner;
    }
    if (t.kind !== '?') throw this.#error(t, "')' or '?'", [...AFTER_TEST.slice(0, 2), "')'", "'?'"]);
    this.#next();
    const then = this.or(depth + 1);
    if (this.#tok.kind !== ':') throw this.#error(this.#tok, "':' (the ternary is ( cond ? then : else ))", ["':'", ...AFTER_TEST.slice(0, 2)]);
    this.#next();
    const otherwise = this.or(depth + 1);
    const close = this.#tok;
    if (close.kind !== ')') throw this.#error(close, "')' to end the ternary", ["')'", ...AFTER_TEST.slice(0, 2)]);
    this.#next();
    return { kind: 'ternary', cond: inner, then, else: otherwise, offset: open.offset, end: close.end };
  }

  test(): TestNode {
    const start = this.#tok;
    let not = false;
    while (this.#tok.kind === 'not') {
      not = !not;
      this.#next();
    }
    const f = this.#tok;
    if (f.kind !== 'word') {
      if (f.kind === '(' && start.kind === 'not') {
        throw new FilterSyntaxError("'not' applies to a single test in WinDivert's language, not to a parenthesised filter: move it inside (not a or not b), or invert the operators", this.#text, start.offset, { expected: ['a field'] });
      }
      if (f.kind === 'number') throw this.#error(f, 'a test (a field comes first: tcp.DstPort == 80)', TEST_START);
      throw this.#error(f, 'a test', TEST_START);
    }
    this.#next();
    const index = this.#tok.kind === '[' ? this.#index() : undefined;
    let end = index?.end ?? f.end;
    let op: Op | undefined;
    let value: ValueNode | undefined;
    if (this.#tok.kind === 'op') {
      op = this.#next().op!;
      value = this.#value();
      end = value.end;
    }
    return { kind: 'test', not, field: f.text, fieldOffset: f.offset, index, op, value, offset: start.offset, end };
  }

  #index(): IndexNode {
    const open = this.#next();
    const negative = this.#tok.kind === '-';
    if (negative) this.#next();
    const n = this.#tok;
    if (n.kind !== 'number' || n.form !== 'decimal') throw this.#error(n, 'an index: a decimal number, optionally negative or with the b (bytes) suffix', ['a decimal index']);
    this.#next();
    const close = this.#tok;
    if (close.kind !== ']') throw this.#error(close, "']'", ["']'"]);
    this.#next();
    // Checked for range in check.ts; a huge number is clamped so it stays out of range there.
    const v = n.value! > 0x7fff_ffffn ? 0x7fff_ffff : Number(n.value!);
    return { value: v, negative, bytes: n.bytes === true, offset: open.offset, end: close.end };
  }

  #value(): ValueNode {
    const start = this.#tok;
    const negative = start.kind === '-';
    if (negative) this.#next();
    const t = this.#tok;
    if (t.kind === 'number') {
      if (t.bytes) {
        // WinDivert 2.2 takes the b suffix in an index only (packet[55b]); 80b is not a value.
        const digits = t.text.slice(0, -1);
        throw new FilterSyntaxError(`The b (bytes) suffix belongs to an index, as in packet[${digits}b]; a value is a plain number: ${digits}`, this.#text, t.end - 1, { expected: ['a number'] });
      }
      this.#next();
      if (negative && t.form !== 'decimal' && t.form !== 'hex') {
        throw new FilterSyntaxError('An address cannot be negative', this.#text, start.offset, { expected: ['a number'] });
      }
      return { value: negative ? -t.value! : t.value!, negative, form: t.form!, text: t.text, offset: start.offset, end: t.end };
    }
    if (t.kind === 'word' && /^[A-Z][A-Z0-9_]*$/.test(t.text)) {
      this.#next(); // a macro; check.ts resolves it
      return { value: 0n, negative, form: 'macro', text: t.text, offset: start.offset, end: t.end };
    }
    throw this.#error(t, 'a value (a number, an address or a macro such as TCP)', ['a number', 'an address', 'a macro']);
  }

  expectEnd(): void {
    const t = this.#tok;
    if (t.kind === 'end') return;
    if (t.kind === ')') throw new FilterSyntaxError("Unbalanced ')': no '(' is open here", this.#text, t.offset, { expected: AFTER_TEST });
    if (t.kind === '?') throw new FilterSyntaxError('A ternary must be in parentheses: ( cond ? then : else )', this.#text, t.offset, { expected: AFTER_TEST });
    throw this.#error(t, "'and', 'or' or the end of the filter", AFTER_TEST);
  }

  #error(t: Token, what: string, expected: readonly string[]): FilterSyntaxError {
    const found = t.kind === 'end' ? 'the end of the filter' : `${JSON.stringify(t.text)}`;
    const msg = t.kind === 'end' ? `Expected ${what}, but the filter ends here` : `Expected ${what}, found ${found}`;
    return new FilterSyntaxError(msg, this.#text, t.offset, { expected });
  }

  #deep(depth: number): void {
    if (depth > MAX_DEPTH) throw new FilterSyntaxError(`The filter nests deeper than ${MAX_DEPTH / 3} levels`, this.#text, this.#tok.offset, { expected: [] });
  }
}
