/**
 * Process-exit safety for divert sockets: on SIGINT, SIGTERM or SIGHUP every open socket closes
 * gracefully (held packets get their verdict, rules are removed), then the signal takes its usual
 * course (unless the program has its own handler for it). On any other exit, including an
 * uncaught exception, the synchronous part runs: verdicts, unbind, and rule removal.
 * @module
 */
export interface ExitTracked {
  close(): Promise<void>;
  /** Verdicts for everything held, unbind, remove rules: all synchronous. */
  exitSync(): void;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const tracked = new Set<ExitTracked>();
let installed = false;

function onSignal(signal: NodeJS.Signals): void {
  const all = [...tracked];
  const deadline = new Promise<void>((resolve) => setTimeout(resolve, 5000).unref());
  void Promise.race([Promise.allSettled(all.map((s) => s.close())), deadline]).then(() => {
    // If the program listens for this signal itself, it decides what happens next.
    const others = process.listenerCount(signal) - 1;
    if (others > 0) return;
    uninstall();
    process.kill(process.pid, signal);
  });
}

function onExit(): void {
  for (const s of [...tracked]) {
    try {
      s.exitSync();
    } catch {
      // Exiting anyway: do the most we can for the other sockets.
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const sig of SIGNALS) process.on(sig, onSignal);
  process.on('exit', onExit);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const sig of SIGNALS) process.off(sig, onSignal);
  process.off('exit', onExit);
}

/** Tracks `s` until the returned function is called (on close). */
export function trackForExit(s: ExitTracked): () => void {
  tracked.add(s);
  install();
  return () => {
    tracked.delete(s);
    if (tracked.size === 0) uninstall();
  };
}
