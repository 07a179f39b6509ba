/**
 * The packet-mark bit that keeps divert from diverting its own packets.
 *
 * Packets that divert injects carry {@link DIVERT_MARK} (SO_MARK on the raw socket, or the
 * verdict's mark). Every DIVERT rule carries `-m mark ! --mark DIVERT_MARK/DIVERT_MARK_MASK`, so
 * an injected packet passes the rule instead of looping back into the queue.
 * @module
 */

/** Bit set in `skb->mark` on every packet divert injects. */
export const DIVERT_MARK = 0x40000000;

/** Only this bit of the mark is tested, so other users of the mark keep their bits. */
export const DIVERT_MARK_MASK = 0x40000000;

/** `0x40000000/0x40000000`, as iptables prints it. */
export function markMatchText(): string {
  return `0x${DIVERT_MARK.toString(16)}/0x${DIVERT_MARK_MASK.toString(16)}`;
}
