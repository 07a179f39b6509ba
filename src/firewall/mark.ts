/**
 * The packet marks divert uses, and the tc redirect that carries inbound injections.
 *
 * Packets that divert injects carry {@link DIVERT_MARK} (SO_MARK on the raw socket, or the
 * verdict's mark). Every DIVERT rule tests `meta mark & DIVERT_MARK_MASK == 0`, so an injected
 * packet passes the rule instead of looping back into the queue.
 *
 * Inbound injection sends a packet out of an interface with {@link INJECT_MARK}; a clsact egress
 * filter (classic BPF "mark == INJECT_MARK", priority {@link INJECT_TC_PRIO}, handle = the owner's
 * pid) redirects it with mirred to the same interface's ingress (src/divert/injector.ts).
 * @module
 */
import { markMatchProgram } from '../rtnetlink/cbpf.js';
import type { RedirectMatch } from '../rtnetlink/tc_redirect.js';

/** Bit set in `skb->mark` on every packet divert injects. */
export const DIVERT_MARK = 0x40000000;

/** Only this bit of the mark is tested, so other users of the mark keep their bits. */
export const DIVERT_MARK_MASK = 0x40000000;

/** tc preference of the redirect filters: high enough to stay out of the way of others. */
export const INJECT_TC_PRIO = 49_152;

/** The mark the redirect filter matches; it includes DIVERT_MARK, so DIVERT rules skip the packet. */
export const INJECT_MARK = (DIVERT_MARK | 0x00d1_0001) >>> 0;

/** What makes a tc filter one of divert's redirects: its priority and program. */
export const INJECT_REDIRECT: RedirectMatch = { prio: INJECT_TC_PRIO, ops: markMatchProgram(INJECT_MARK) };
