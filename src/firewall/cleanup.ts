/**
 * Removing rules when the process ends: on `exit`, on an uncaught exception, and on SIGINT,
 * SIGTERM and SIGHUP (the seed's `-DFIREWALL` interceptor removed its rule on Ctrl-C).
 *
 * Cleanup is synchronous (an `exit` listener cannot wait). Rules are removed only when the
 * process is really ending:
 * - on a signal, only when no other listener for it exists: then we clean up and raise the
 *   signal again with our listeners gone, so the process dies by it and its exit status stays
 *   honest (130/143 in a shell). When the program has its own listener, that listener decides:
 *   if it keeps running, so do its rules; if it exits, `exit` cleans up;
 * - on an uncaught exception, only when no `uncaughtException` listener exists (the process is
 *   about to die); a program that handles the exception keeps running with its rules;
 * - on `exit`, always (Node emits it on every normal exit and on a crash).
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
  if (process.listenerCount(signal) > 1) return; // the program's own listener decides; 'exit' cleans up
  cleanupAll();
  uninstall();
  process.kill(process.pid, signal);
}

function onUncaught(): void {
  if (process.listenerCount('uncaughtException') === 0) cleanupAll();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupAll);
  process.on('uncaughtExceptionMonitor', onUncaught);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', cleanupAll);
  process.off('uncaughtExceptionMonitor', onUncaught);
  for (const s of SIGNALS) process.off(s, onSignal);
}

/**
 * Removes `handle`'s rules when the process exits, crashes or dies by SIGINT/SIGTERM/SIGHUP
 * (see the module comment for when a signal or exception handled by the program does not).
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
