/**
 * Removing rules when the process ends: on `exit`, on an uncaught exception, and on SIGINT,
 * SIGTERM and SIGHUP (the seed's `-DFIREWALL` interceptor removed its rule on Ctrl-C).
 *
 * Cleanup is synchronous (an `exit` listener cannot wait). After a signal, when no other
 * listener for it exists, the signal is raised again with our listeners gone, so the process
 * dies by that signal and its exit status stays honest (130/143 in a shell). When the program
 * has its own listener for the signal, that listener decides what happens next.
 * @module
 */

/** Anything that can remove its rules synchronously (a rule handle). */
export interface SyncRemovable {
  removeSync(): number;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const handles = new Set<SyncRemovable>();
let installed = false;

function cleanupAll(): void {
  for (const h of [...handles]) {
    handles.delete(h);
    try {
      h.removeSync();
    } catch (err) {
      process.stderr.write(`divert: could not remove firewall rules: ${(err as Error).message}\n`);
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  cleanupAll();
  uninstall();
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupAll);
  process.on('uncaughtExceptionMonitor', cleanupAll);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', cleanupAll);
  process.off('uncaughtExceptionMonitor', cleanupAll);
  for (const s of SIGNALS) process.off(s, onSignal);
}

/**
 * Removes `handle`'s rules when the process exits, crashes or gets SIGINT/SIGTERM/SIGHUP.
 * @returns a function that cancels the registration (the handle's `remove()` also does).
 * @example installExitCleanup(await addRule('-A input -p icmp -j DIVERT 1234'));
 */
export function installExitCleanup(handle: SyncRemovable): () => void {
  handles.add(handle);
  install();
  return () => forgetExitCleanup(handle);
}

/** Drops a handle from exit cleanup (called when it was removed by hand). */
export function forgetExitCleanup(handle: SyncRemovable): void {
  handles.delete(handle);
  if (handles.size === 0) uninstall();
}
