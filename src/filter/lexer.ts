/**
 * Tokens of WinDivert's filter language, each with its offsets in the text.
 *
 * A word is a run of letters, digits, `.`, `:` and `_` (WinDivert's token characters): a field
 * (`tcp.DstPort`), a keyword (`and`, `or`, `not`), a macro (`TCP`), a number (`80`, `0x50`,
 * `55b` inside an index), an IPv4 address (value ::ffff:a.b.c.d) or an IPv6 address. A `:` is
 * the ternary's colon unless it belongs to an IPv6 address; unlike WinDivert, `(a?b:c)` needs
 * no spaces (`b:c` is not an address, so it is split at the colon).
 * @module
 */
import { FilterSyntaxError } from '../errors.js';
import { tryParseIpv4, tryParseIpv6 } from '../ip/address.js';
import type { Op } from './ast.js';
import { bigFromBytes } from './_bytes.js';

export type TokenKind = '(' | ')' | '[' | ']' | '-' | '?' | ':' | 'not' | 'and' | 'or' | 'op' | 'word' | 'number' | 'end';

export interface Token {
  readonly kind: TokenKind;
  readonly offset: number;
  readonly end: number;
  readonly text: string;
  /** kind 'op'. */
  readonly op?: Op;
  /** kind 'number': the value (IPv4 already mapped to ::ffff:a.b.c.d). */
  readonly value?: bigint;
  readonly form?: 'decimal' | 'hex' | 'ipv4' | 'ipv6';
  /** kind 'number': written with the `b` (bytes) suffix. */
  readonly bytes?: boolean;
}

/** Longest filter accepted (WinDivert's own limit is far lower: 256 tests). */
export const MAX_FILTER_LENGTH = 65_536;

const MAX_128 = (1n << 128n) - 1n;
const WORD_CHAR = /[A-Za-z0-9._:]/;

/**
 * Splits `text` into tokens, ending with an 'end' token at `text.length`.
 * @throws {FilterSyntaxError} on a character or word that is no token.
 */
export function tokenize(text: string): Token[] {
  if (text.length > MAX_FILTER_LENGTH) {
    throw new FilterSyntaxError(`The filter is ${text.length} characters long; at most ${MAX_FILTER_LENGTH} are accepted`, text, MAX_FILTER_LENGTH);
  }
  const out: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, len: number, extra: Partial<Token> = {}): void => {
    out.push({ kind, offset: i, end: i + len, text: text.slice(i, i + len), ...extra });
    i += len;
  };
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f') {
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === '[' || c === ']' || c === '-' || c === '?') push(c, 1);
    else if (c === '!') push(next === '=' ? 'op' : 'not', next === '=' ? 2 : 1, next === '=' ? { op: '!=' } : {});
    else if (c === '=') push('op', next === '=' ? 2 : 1, { op: '==' });
    else if (c === '<' || c === '>') push('op', next === '=' ? 2 : 1, { op: `${c}${next === '=' ? '=' : ''}` as Op });
    else if (c === '&' || c === '|') {
      if (next !== c) {
        const word = c === '&' ? 'and' : 'or';
        throw new FilterSyntaxError(`A single '${c}' is not an operator: write '${c}${c}' or '${word}'`, text, i, { expected: [`'${c}${c}'`] });
      }
      push(c === '&' ? 'and' : 'or', 2);
    } else if (c === ':' && next !== ':') push(':', 1);
    else if (WORD_CHAR.test(c)) {
      let j = i;
      while (j < text.length && WORD_CHAR.test(text[j]!)) j++;
      out.push(word(text, i, j));
      i = out[out.length - 1]!.end;
    } else {
      const shown = c === '"' || c === "'" ? `${c} (strings are not part of the language)` : JSON.stringify(c);
      throw new FilterSyntaxError(`Unexpected character ${shown}`, text, i, { expected: ['a field', 'a value', 'an operator'] });
    }
  }
  out.push({ kind: 'end', offset: text.length, end: text.length, text: '' });
  return out;
}

/** Classifies the word run text[start, end): it may shrink to the part before a ternary colon. */
function word(text: string, start: number, end: number): Token {
  let run = text.slice(start, end);
  if (run.includes(':')) {
    const v6 = parseIpv6Literal(run);
    if (v6 !== undefined) return { kind: 'number', offset: start, end, text: run, value: v6, form: 'ipv6' };
    // "(c ? ipv6.SrcAddr == ::1: x)": a trailing single colon is the ternary's (as in WinDivert).
    if (run.endsWith(':') && !run.endsWith('::')) {
      const cut = parseIpv6Literal(run.slice(0, -1));
      if (cut !== undefined) return { kind: 'number', offset: start, end: end - 1, text: run.slice(0, -1), value: cut, form: 'ipv6' };
    }
    const k = run.indexOf(':');
    if (k === 0 || run[k + 1] === ':') {
      throw new FilterSyntaxError(`${JSON.stringify(run)} is not a valid IPv6 address`, text, start, { expected: ['an IPv6 address'] });
    }
    run = run.slice(0, k); // "80:" or "udp:icmp": the colon is the ternary's
    end = start + k;
  }
  const tok = (kind: TokenKind, extra: Partial<Token> = {}): Token => ({ kind, offset: start, end, text: run, ...extra });
  if (run === 'and' || run === 'or' || run === 'not') return tok(run);
  if (/^[0-9]/.test(run)) {
    let m = /^([0-9]+)(b?)$/.exec(run);
    if (m) return tok('number', { value: checked(BigInt(m[1]!), text, start, run), form: 'decimal', bytes: m[2] === 'b' });
    m = /^0[xX]([0-9a-fA-F]+)$/.exec(run);
    if (m) return tok('number', { value: checked(BigInt(`0x${m[1]!}`), text, start, run), form: 'hex' });
    const v4 = parseIpv4Literal(run);
    if (v4 !== undefined) return tok('number', { value: v4 | 0xffff_0000_0000n, form: 'ipv4' });
    const what = /^[0-9]+(\.[0-9]+){3}$/.test(run) ? 'a valid IPv4 address' : 'a number (decimal, 0x hex, an IPv4 or IPv6 address)';
    throw new FilterSyntaxError(`${JSON.stringify(run)} is not ${what}`, text, start, { expected: ['a number', 'an address'] });
  }
  if (/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(run)) return tok('word');
  throw new FilterSyntaxError(`${JSON.stringify(run)} is not a field, keyword or value`, text, start, { expected: ['a field', 'a value'] });
}

function checked(v: bigint, text: string, at: number, run: string): bigint {
  if (v > MAX_128) throw new FilterSyntaxError(`${run} does not fit in 128 bits`, text, at, { expected: ['a value below 2^128'] });
  return v;
}

/** `a.b.c.d` (decimal parts 0–255, no leading zeros) as a 32-bit value, else undefined. */
function parseIpv4Literal(s: string): bigint | undefined {
  const b = tryParseIpv4(s);
  return b === undefined ? undefined : bigFromBytes(b);
}

/** An IPv6 address in RFC 4291 §2.2 text (`::`, an IPv4 tail) as a 128-bit value, else undefined. */
function parseIpv6Literal(s: string): bigint | undefined {
  const b = tryParseIpv6(s);
  return b === undefined ? undefined : bigFromBytes(b);
}
