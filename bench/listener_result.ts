/**
 * The one line every bench listener (C and divert) prints when its window ends:
 *   packets=<n> seconds=<s> cpu_us=<u> qdrop=<n> udrop=<n> offered=<n> [key=value…]
 * packets verdicted in the window, its length, the listener's CPU time in it, its queue's kernel
 * and user drops in it, and the packets that reached the queue in it (queued or dropped for a
 * full queue), all but the first three from /proc/net/netfilter/nfnetlink_queue.
 */
export interface ListenerResult {
  packets: number;
  seconds: number;
  cpuUs: number;
  queueDropped: number;
  userDropped: number;
  offered: number;
  /** Further key=value words (api=handler, served=10:123,11:98…). */
  extra: Record<string, string>;
}

/** The result in a listener's output, or undefined when it printed none (it printed "skipped: …" or died). */
export function parseListenerResult(out: string): ListenerResult | undefined {
  const line = out.split('\n').find((l) => l.startsWith('packets='));
  if (line === undefined) return undefined;
  const kv: Record<string, string> = {};
  for (const word of line.trim().split(/\s+/)) {
    const eq = word.indexOf('=');
    if (eq > 0) kv[word.slice(0, eq)] = word.slice(eq + 1);
  }
  const num = (k: string): number => {
    const v = Number(kv[k]);
    if (kv[k] === undefined || !Number.isFinite(v)) throw new Error(`listener result without a number for ${k}: ${line}`);
    delete kv[k];
    return v;
  };
  return { packets: num('packets'), seconds: num('seconds'), cpuUs: num('cpu_us'), queueDropped: num('qdrop'), userDropped: num('udrop'), offered: num('offered'), extra: kv };
}

/** The "skipped: …" reason a listener printed, if any. */
export function skippedReason(out: string): string | undefined {
  return out.split('\n').find((l) => l.startsWith('skipped:'))?.slice('skipped:'.length).trim();
}
