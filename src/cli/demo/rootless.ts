/**
 * Running the demo without root: re-exec under `unshare --user --map-root-user --net --mount`,
 * where this process is root of its own user, network and mount namespaces. Inside, a private
 * tmpfs on /run gives `ip netns` a /run/netns it may write.
 * @module
 */
import { spawn } from 'node:child_process';
import { runQuiet } from '../sys.js';

/** Set in the re-executed child. */
export const REEXEC_ENV = 'DIVERT_DEMO_USERNS';
const UNSHARE = ['--user', '--map-root-user', '--net', '--mount'];

/** Whether `unshare --user --map-root-user --net --mount` works for this user. */
export async function canUnshare(): Promise<{ ok: boolean; reason: string }> {
  const r = await runQuiet('unshare', [...UNSHARE, 'true'], { timeoutMs: 5000 });
  return { ok: r.ok, reason: r.stderr.trim().split('\n')[0] ?? '' };
}

/** Re-runs this command line in new namespaces; resolves with the child's exit code. */
export function reexecInUserns(argv: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('unshare', [...UNSHARE, process.execPath, ...process.execArgv, ...argv], {
      stdio: 'inherit',
      env: { ...process.env, [REEXEC_ENV]: '1' },
    });
    const forward = (sig: NodeJS.Signals): void => void child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('close', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

/** In the child: a private /run so `ip netns add` can create /run/netns. */
export async function prepareUserns(): Promise<void> {
  const r = await runQuiet('mount', ['-t', 'tmpfs', 'divert-demo', '/run']);
  if (!r.ok) throw new Error(`cannot mount a private /run in the user namespace: ${r.stderr.trim()}`);
  await runQuiet('mkdir', ['-p', '/run/netns']);
}
