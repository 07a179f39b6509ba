/**
 * The typed face of the C addon (native/). This folder is the only TypeScript that touches it.
 *
 * Every function returns n >= 0 on success or -errno on failure (see native/README.md); callers
 * turn negative results into `SystemCallError`s with `check()` from ./errno.ts.
 * @module
 */
import { accessSync, close as fsClose, constants, existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { DivertError } from '../errors.js';

/**
 * The addon's functions. Each returns n >= 0 on success or -errno (see the module comment); only wrong
 * argument types throw (TypeError).
 */
export interface NativeBinding {
  /** socket(2) with SOCK_NONBLOCK|SOCK_CLOEXEC, optionally inside the netns at `netnsPath`. */
  socket(domain: number, type: number, protocol: number, netnsPath?: string | null): number;
  /**
   * open(2) of `path`, read-only and O_CLOEXEC, with this thread inside the netns at `netnsPath`
   * (and back): a /proc/thread-self/net file so opened shows that namespace. fd or -errno.
   * Optional: an addon or fake without it makes callers report the namespace's files unreadable.
   */
  openInNetns?(path: string, netnsPath: string): number;
  /** -EINVAL for a sockaddr shorter than 2 bytes or longer than sockaddr_storage. */
  bind(fd: number, sockaddr: Uint8Array): number;
  /** Length written; -EINVAL when `out` is too short for the address. */
  getsockname(fd: number, out: Uint8Array): number;
  /** setsockopt(2) with an int value or the bytes of a struct; 0 or -errno. */
  setsockopt(fd: number, level: number, name: number, value: number | Uint8Array): number;
  /** getsockopt(2) into `out`; the option's length, or -errno. */
  getsockopt(fd: number, level: number, name: number, out: Uint8Array): number;
  /** close(2); 0 or -errno (-EBADF for a negative fd). */
  close(fd: number): number;
  /**
   * close(2) on libuv's threadpool, `done(0 | -errno)` on this thread afterwards: closing a
   * netlink socket can wait in the kernel (nf_tables flushes its destroy work, an RCU grace
   * period). Optional: without it callers close synchronously.
   */
  closeAsync?(fd: number, done: (result: number) => void): void;
  /** sendto(2) of one datagram, to `sockaddr` or the connected peer; bytes sent or -errno. */
  sendto(fd: number, bytes: Uint8Array, sockaddr: Uint8Array | null, flags: number): number;
  /** Receives up to `max` datagrams, datagram i at arena[i*slotSize]; lengths[i] bit 31 = MSG_TRUNC. 0 on EAGAIN. */
  recvmmsg(fd: number, arena: Uint8Array, slotSize: number, max: number, lengths: Uint32Array): number;
  /** poll(2) on one fd: revents, 0 on timeout. Blocks: short synchronous waits only (-EINVAL for a negative timeout). */
  poll(fd: number, events: number, timeoutMs: number): number;
  /** Watches `fd` on this thread's libuv loop; `callback(status, events)` on readiness. */
  pollStart(fd: number, events: number, callback: (status: number, events: number) => void): PollHandle | number;
  /** Stops watching and frees the handle (after libuv closes it); idempotent, returns 0. */
  pollStop(handle: PollHandle): number;
  /** Whether the watcher keeps the event loop (and so the process) alive; returns 0. */
  pollRef(handle: PollHandle, ref: boolean): number;
}

/** Opaque handle returned by `pollStart`. */
export type PollHandle = {
  /** Type-level brand only: the value is an N-API external with no properties. */
  readonly __brand: 'PollHandle';
};

/** libuv poll event bits. */
export const UV_READABLE = 1;

let cached: NativeBinding | undefined;
let replacement: NativeBinding | undefined;

/**
 * Makes `loadNative()` return `binding` instead of the addon; `undefined` restores the addon.
 * For src/testing only (the fake kernel); not part of the public API.
 */
export function setNativeBinding(binding: NativeBinding | undefined): void {
  replacement = binding;
}

/** The package's root directory (dist/src/_native/binding.js → three levels up). */
export const PACKAGE_ROOT: string = new URL('../../../', import.meta.url).pathname;

/** The platforms divert ships prebuilt addons for (prebuilds/<platform>-<arch>/). */
export const PREBUILT_FOR = ['linux-x64 (glibc)', 'linux-arm64 (glibc)'] as const;

/** What a source build of the addon needs, with the programs missing from PATH right now. */
export function sourceBuildNeeds(): string {
  const nodedir = dirname(dirname(process.execPath));
  const headers = existsSync(join(nodedir, 'include', 'node', 'node_api.h'));
  const missing = ['python3', 'make', 'cc'].filter((cmd) => !onPath(cmd));
  return 'a source build needs python3, make and a C compiler (cc: gcc or clang), and Node.js\'s headers ' +
    `(${headers ? `found in ${nodedir}/include/node` : `not in ${nodedir}/include/node: node-gyp would download them`})` +
    (missing.length > 0 ? `; not found on PATH here: ${missing.join(', ')}` : '') +
    '; build with "npm rebuild divert --build-from-source" (in a checkout: "npm run build:native")';
}

/** Whether `cmd` is an executable file on PATH (not, e.g., /dev/null mounted over it). */
function onPath(cmd: string): boolean {
  return (process.env['PATH'] ?? '').split(':').some((dir) => {
    if (dir === '') return false;
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return statSync(join(dir, cmd)).isFile();
    } catch {
      return false;
    }
  });
}

/**
 * The addon file to load: a source build in `<root>/build/Release`, else the prebuilt one for this
 * platform, architecture and C library in `<root>/prebuilds/` (node-gyp-build's rules).
 * @throws {DivertError} `ERR_DIVERT_NATIVE` when neither exists, saying what a source build needs.
 */
export function resolveNativeAddon(root: string = PACKAGE_ROOT): string {
  const require = createRequire(import.meta.url);
  const nodeGypBuild = require('node-gyp-build') as { resolve(dir: string): string };
  try {
    return nodeGypBuild.resolve(root);
  } catch (cause) {
    throw new DivertError(
      `The divert native addon was not built, and no prebuilt one fits ${process.platform}-${process.arch} ` +
        `(divert ships prebuilt addons for ${PREBUILT_FOR.join(' and ')}; looked in ${join(root, 'build', 'Release')} and ${join(root, 'prebuilds')}): ${sourceBuildNeeds()}`,
      'ERR_DIVERT_NATIVE',
      { cause },
    );
  }
}

/**
 * Loads the addon file at `path` (see {@link resolveNativeAddon}).
 * @throws {DivertError} `ERR_DIVERT_NATIVE` when it cannot be loaded, saying how to build one.
 */
export function requireAddon(path: string): NativeBinding {
  try {
    return createRequire(import.meta.url)(path) as NativeBinding;
  } catch (cause) {
    throw new DivertError(
      `Cannot load the divert native addon ${path}: ${(cause as Error).message.split('\n')[0]}; build one for this machine: ${sourceBuildNeeds()}`,
      'ERR_DIVERT_NATIVE',
      { cause },
    );
  }
}

/** Loads the addon once; a missing or unloadable build becomes an error that says how to fix it. */
export function loadNative(): NativeBinding {
  if (replacement) return replacement;
  if (cached) return cached;
  const addon = requireAddon(resolveNativeAddon());
  // fs.close is close(2) on the threadpool: any fd will do, sockets included. Not in a worker
  // thread, where Node warns about closing an fd its fs did not open (there the few sockets a
  // worker closes, NFQUEUE ones, close at once).
  const closeAsync = isMainThread
    ? (fd: number, done: (result: number) => void): void => fsClose(fd, (err) => done(err ? -Math.abs(err.errno ?? 5) : 0))
    : undefined;
  cached = closeAsync ? { ...addon, closeAsync } : addon;
  return cached;
}
