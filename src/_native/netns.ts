/**
 * A network namespace as every layer names it: by a name as `ip netns` shows it (the file
 * /run/netns/NAME), or by the path of any namespace file (/proc/<pid>/ns/net, a bind mount).
 * Sockets are opened inside it by the addon (setns on the calling thread only, and back).
 * @module
 */

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
}
