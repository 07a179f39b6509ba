/**
 * A network namespace as every layer names it: by a name as `ip netns` shows it (the file
 * /run/netns/NAME), or by the path of any namespace file (/proc/<pid>/ns/net, a bind mount).
 * Sockets are opened inside it by the addon (setns on the calling thread only, and back).
 *
 * A socket that lives a while opens its namespace once ({@link Netns.pin}) and reaches it through
 * that open file (/proc/self/fd/N) from then on: every socket it opens later lands in the same
 * namespace, even if the name is deleted or made again meanwhile. Pins are shared per namespace
 * (by inode) and counted, so two sockets in one namespace hold one file.
 * @module
 */
import { closeSync, openSync, statSync } from 'node:fs';
import { DivertError } from '../errors.js';

/** Where `ip netns add NAME` puts its namespace files. */
export const NETNS_RUN_DIR = '/run/netns';

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export class Netns {
  /** The namespace file. */
  readonly path: string;
  /** The `ip netns` name, when the path is /run/netns/NAME. */
  readonly name: string | undefined;

  private constructor(path: string, name: string | undefined) {
    this.path = path;
    this.name = name;
  }

  /**
   * A namespace from a name (`lab`) or a path (`/run/netns/lab`, `/proc/1234/ns/net`).
   * @throws {TypeError} for anything else: empty, white space or control characters, a relative
   *   path, or a name `ip netns` would not make.
   * @example Netns.from('lab').path // '/run/netns/lab'
   */
  static from(nameOrPath: string): Netns {
    if (typeof nameOrPath !== 'string' || nameOrPath === '') throw new TypeError(`A network namespace is a name (as "ip netns list" shows) or a path, got ${JSON.stringify(nameOrPath)}`);
    // eslint-disable-next-line no-control-regex
    if (/[\s\x00-\x1f\x7f]/.test(nameOrPath)) throw new TypeError(`Invalid network namespace ${JSON.stringify(nameOrPath)}: no white space or control characters`);
    if (nameOrPath.includes('/')) {
      if (!nameOrPath.startsWith('/')) throw new TypeError(`A network namespace path must be absolute, got ${JSON.stringify(nameOrPath)}`);
      const m = /^\/(?:var\/)?run\/netns\/([^/]+)$/.exec(nameOrPath);
      return new Netns(nameOrPath, m?.[1]);
    }
    if (!NAME.test(nameOrPath) || nameOrPath === '.' || nameOrPath === '..') {
      throw new TypeError(`Invalid network namespace name ${JSON.stringify(nameOrPath)}: use the NAME "ip netns list" shows (letters, digits, _ . -)`);
    }
    return new Netns(`${NETNS_RUN_DIR}/${nameOrPath}`, nameOrPath);
  }

  /** The path for a name or path; undefined stays undefined (this process's namespace). */
  static pathOf(nameOrPath: string | undefined): string | undefined {
    return nameOrPath === undefined ? undefined : Netns.from(nameOrPath).path;
  }

  toString(): string {
    return this.name ?? this.path;
  }

  /**
   * Which namespace a path leads to (`dev:inode` of the namespace file), so that a name, a
   * /proc path and a pinned path of one namespace compare equal — and undefined (this
   * process's namespace) equals /proc/self/ns/net; the path itself if it cannot be read.
   */
  static identity(path: string | undefined): string {
    path ??= '/proc/self/ns/net';
    try {
      const st = statSync(path);
      return `${st.dev}:${st.ino}`;
    } catch {
      return path;
    }
  }

  /**
   * Opens the namespace named by `nameOrPath` once (or shares this process's open file for it)
   * and returns the path to use from now on. Undefined means this process's own namespace: no
   * file, nothing to release. Called when a socket binds, never on a packet's path.
   * @throws {DivertError} `ENOENT` when there is no such namespace, with how to make one.
   */
  static pin(nameOrPath: string | undefined): NetnsPin {
    if (nameOrPath === undefined) return { path: undefined, release: () => {} };
    const ns = Netns.from(nameOrPath);
    let fd: number;
    try {
      fd = openSync(ns.path, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'ENOENT';
      const how = ns.name !== undefined ? `: make it with "ip netns add ${ns.name}", or pick one from "ip netns list"` : '';
      throw new DivertError(`Cannot open network namespace ${ns.toString()} (${code})${how}`, code, { cause: err });
    }
    const key = Netns.identity(`/proc/self/fd/${fd}`);
    let pin = PINS.get(key);
    if (pin === undefined) {
      pin = { fd, refs: 0 };
      PINS.set(key, pin);
    } else {
      closeSync(fd);
    }
    pin.refs++;
    const held = pin;
    let released = false;
    return {
      path: `/proc/self/fd/${held.fd}`,
      release: () => {
        if (released) return;
        released = true;
        if (--held.refs > 0) return;
        PINS.delete(key);
        closeSync(held.fd);
      },
    };
  }
}

/** A namespace held open by {@link Netns.pin}. */
export interface NetnsPin {
  /** The path every socket uses (/proc/self/fd/N); undefined for this process's namespace. */
  readonly path: string | undefined;
  /** Lets the file go when no other pin of the namespace remains. Idempotent. */
  release(): void;
}

/** Open namespace files of this process by namespace identity. */
const PINS = new Map<string, { fd: number; refs: number }>();
