/**
 * Parser for `iptables-save -c -t mangle` output: which chains exist and every rule with its
 * counters, as `[packets:bytes] -A CHAIN spec` lines.
 * @module
 */

export interface SavedRule {
  readonly chain: string;
  readonly spec: string;
  readonly packets: number;
  readonly bytes: number;
}

export interface SavedTable {
  readonly chains: ReadonlySet<string>;
  readonly rules: readonly SavedRule[];
}

/** Parses the `*mangle` section of iptables-save output. */
export function parseSave(text: string): SavedTable {
  const chains = new Set<string>();
  const rules: SavedRule[] = [];
  for (const line of text.split('\n')) {
    const decl = /^:(\S+) /.exec(line);
    if (decl?.[1]) {
      chains.add(decl[1]);
      continue;
    }
    const m = /^(?:\[(\d+):(\d+)\] )?-A (\S+) ?(.*)$/.exec(line);
    if (m) rules.push({ chain: m[3] ?? '', spec: m[4] ?? '', packets: Number(m[1] ?? 0), bytes: Number(m[2] ?? 0) });
  }
  return { chains, rules };
}
