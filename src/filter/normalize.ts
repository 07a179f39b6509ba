/**
 * From the AST to the boolean form the lowering works on, for one hook and one IP family:
 * ternaries become `(c and t) or (not c and e)`, the direction-dependent fields (localAddr,
 * localPort…, inbound/outbound) are resolved for the hook, `not` is pushed down to the tests,
 * and whatever the hook and family decide is folded to a constant.
 *
 * The negation here is logical (what a ternary's else branch needs; WinDivert's own `not` was
 * already folded into the test's operator by the parser): the negation of a test is "its header
 * is absent, or the inverse comparison holds" (¬(tcp.DstPort == 80) is `tcp == 0 or
 * tcp.DstPort != 80`), so every test left is positive, with its own "absent ⇒ false" meaning.
 * @module
 */
import { effectiveTest, indexOffset, invertOp, type FilterNode, type Op } from './ast.js';
import { decide } from './evaluate.js';
import { FIELDS } from './fields.js';

/** One test, as the evaluator reads it: `field[offset] op value`. */
export interface Atom {
  readonly k: 'atom';
  readonly field: string;
  /** Array fields: the byte offset (negative: from the end). */
  readonly offset?: number | undefined;
  readonly op: Op;
  readonly value: bigint;
}

export type Ir =
  | { readonly k: 'const'; readonly v: boolean }
  | { readonly k: 'and'; readonly xs: readonly Ir[] }
  | { readonly k: 'or'; readonly xs: readonly Ir[] }
  | { readonly k: 'not'; readonly x: Ir }
  | Atom;

/** The hook a rule sits at: where inbound and outbound packets are taken. */
export type RuleHook = 'prerouting' | 'postrouting';

export interface Env {
  readonly hook: RuleHook;
  readonly family: 4 | 6;
}

export const T: Ir = { k: 'const', v: true };
export const F: Ir = { k: 'const', v: false };

export function atom(field: string, op: Op, value: bigint, offset?: number): Atom {
  return { k: 'atom', field, op, value, offset };
}

export function and(...xs: Ir[]): Ir {
  const out: Ir[] = [];
  for (const x of xs) {
    if (x.k === 'const') {
      if (!x.v) return F;
      continue;
    }
    if (x.k === 'and') out.push(...x.xs);
    else out.push(x);
  }
  return out.length === 0 ? T : out.length === 1 ? out[0]! : { k: 'and', xs: out };
}

export function or(...xs: Ir[]): Ir {
  const out: Ir[] = [];
  for (const x of xs) {
    if (x.k === 'const') {
      if (x.v) return T;
      continue;
    }
    if (x.k === 'or') out.push(...x.xs);
    else out.push(x);
  }
  return out.length === 0 ? F : out.length === 1 ? out[0]! : { k: 'or', xs: out };
}

/** The AST as IR (direction-dependent fields untouched). */
function toIr(n: FilterNode): Ir {
  switch (n.kind) {
    case 'test': {
      const { op, value } = effectiveTest(n);
      const info = FIELDS.get(n.field)!;
      return atom(n.field, op, value, n.index ? indexOffset(n.index, info.size!) : undefined);
    }
    case 'and':
      return and(...n.args.map(toIr));
    case 'or':
      return or(...n.args.map(toIr));
    case 'ternary': {
      const c = toIr(n.cond);
      return or(and(c, toIr(n.then)), and({ k: 'not', x: c }, toIr(n.else)));
    }
  }
}

/** Work a normalize() call did: how many (node, negation) pairs it rewrote. */
export interface NormalizeStats {
  pushed: number;
}

/**
 * The filter for one hook and family: every `not` pushed to the tests, constants folded.
 *
 * A ternary's condition is one IR node used twice (once negated), so the IR is a DAG; each
 * (node, negation) is rewritten once and its result shared, which keeps nested ternaries
 * (`((a ? b : c) ? d : e)`…) linear instead of doubling per level.
 */
export function normalize(n: FilterNode, env: Env, stats?: NormalizeStats): Ir {
  const memo = new Map<Ir, [Ir | undefined, Ir | undefined]>();
  const push = (x: Ir, negate: boolean): Ir => {
    let slot = memo.get(x);
    if (!slot) memo.set(x, (slot = [undefined, undefined]));
    const k = negate ? 1 : 0;
    const done = slot[k];
    if (done) return done;
    if (stats) stats.pushed++;
    const out = pushOnce(x, negate, env, push);
    slot[k] = out;
    return out;
  };
  return push(toIr(n), false);
}

function pushOnce(x: Ir, negate: boolean, env: Env, push: (x: Ir, negate: boolean) => Ir): Ir {
  switch (x.k) {
    case 'const':
      return negate ? { k: 'const', v: !x.v } : x;
    case 'not':
      return push(x.x, !negate);
    case 'and':
      return negate ? or(...x.xs.map((y) => push(y, true))) : and(...x.xs.map((y) => push(y, false)));
    case 'or':
      return negate ? and(...x.xs.map((y) => push(y, true))) : or(...x.xs.map((y) => push(y, false)));
    case 'atom': {
      const r = rewrite(x, env);
      if (r !== x) return push(r, negate);
      return negate ? push(complement(x), false) : fold(x, env);
    }
  }
}

/** The negation of a test: its header (or element) absent, or the inverse comparison. */
function complement(a: Atom): Ir {
  const info = FIELDS.get(a.field)!;
  const inv = atom(a.field, invertOp(a.op), a.value, a.offset);
  if (info.kind === 'array') {
    const need = BigInt(a.offset! >= 0 ? a.offset! + info.size! : -a.offset!);
    if (info.base === 'packet') return or(atom('length', '<', need), inv);
    return or(atom(info.layer, '==', 0n), atom(`${info.layer}.PayloadLength`, '<', need), inv);
  }
  return info.layer === 'none' ? inv : or(atom(info.layer, '==', 0n), inv);
}

/** localAddr/remoteAddr/localPort/remotePort as the header fields they are at this hook. */
function rewrite(a: Atom, env: Env): Ir {
  const out = env.hook === 'postrouting';
  const { op, value } = a;
  switch (a.field) {
    case 'localAddr':
    case 'remoteAddr': {
      const src = (a.field === 'localAddr') === out;
      return or(atom(src ? 'ip.SrcAddr' : 'ip.DstAddr', op, value), atom(src ? 'ipv6.SrcAddr' : 'ipv6.DstAddr', op, value));
    }
    case 'localPort':
    case 'remotePort': {
      // WinDivert: TCP/UDP ports; ICMP/ICMPv6 type on the source side, 0 on the other; else 0.
      const src = (a.field === 'localPort') === out;
      const zero = decide(op, 0n < value ? -1 : 0n > value ? 1 : 0);
      const none = and(atom('tcp', '==', 0n), atom('udp', '==', 0n));
      const icmpNone = and(atom('icmp', '==', 0n), atom('icmpv6', '==', 0n));
      const port = src ? 'SrcPort' : 'DstPort';
      const ports = [atom(`tcp.${port}`, op, value), atom(`udp.${port}`, op, value)];
      if (!src) return or(...ports, zero ? none : F);
      return or(...ports, atom('icmp.Type', op, value), atom('icmpv6.Type', op, value), zero ? and(none, icmpNone) : F);
    }
    default:
      return a;
  }
}

/** A test whose value the hook and family decide, as a constant. */
function fold(a: Atom, env: Env): Ir {
  const v = constValue(a.field, env);
  if (v !== undefined) return decide(a.op, v < a.value ? -1 : v > a.value ? 1 : 0) ? T : F;
  const layer = FIELDS.get(a.field)!.layer;
  if (layer !== 'none' && constValue(layer, env) === 0n) return F;
  return a;
}

/** The value a field has on every packet of this hook and family, if any. */
function constValue(field: string, env: Env): bigint | undefined {
  switch (field) {
    case 'zero':
    case 'false':
    case 'event':
    case 'subIfIdx':
      return 0n;
    case 'true':
      return 1n;
    case 'outbound':
      return env.hook === 'postrouting' ? 1n : 0n;
    case 'inbound':
      return env.hook === 'prerouting' ? 1n : 0n;
    case 'loopback':
      // Packets a loopback device receives are diverted when they leave (at postrouting).
      return env.hook === 'prerouting' ? 0n : undefined;
    case 'ip':
      return env.family === 4 ? 1n : 0n;
    case 'ipv6':
      return env.family === 6 ? 1n : 0n;
    case 'icmp':
      return env.family === 6 ? 0n : undefined;
    case 'icmpv6':
      return env.family === 4 ? 0n : undefined;
    default:
      return undefined;
  }
}
