/**
 * The signals that end a long-running command cleanly (its rules removed, held packets answered,
 * a summary printed): Ctrl-C, a kill, and a closed terminal.
 * @module
 */

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Calls `stop` on SIGINT, SIGTERM or SIGHUP from now on; returns what removes those handlers. */
export function onStopSignals(stop: () => void): () => void {
  for (const s of STOP_SIGNALS) process.on(s, stop);
  return () => {
    for (const s of STOP_SIGNALS) process.off(s, stop);
  };
}
