/**
 * A port for a socket that binds without one (a filter's socket, a sniffer): the first free one
 * from a per-process start, so programs started together rarely try the same ports first.
 * @module
 */

/** Where a port is chosen when a socket binds without one. */
const AUTO_PORTS = { first: 40000, span: 20000 } as const;
/** Ports tried before giving up (each a bind request to the kernel). */
const TRIES = 65;

/**
 * Opens `open(port)` on the first port that is not in use (ERR_DIVERT_PORT_IN_USE), starting from
 * a port chosen by the process id; resolves with the port and what `open` made.
 * @throws what `open` throws for any other reason, or its last ERR_DIVERT_PORT_IN_USE after 65 tries.
 */
export async function openOnFreePort<T>(open: (port: number) => Promise<T>): Promise<{ port: number; opened: T }> {
  const offset = process.pid % AUTO_PORTS.span;
  for (let i = 0; ; i++) {
    const port = AUTO_PORTS.first + ((offset + i) % AUTO_PORTS.span);
    try {
      return { port, opened: await open(port) };
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_DIVERT_PORT_IN_USE' || i + 1 >= TRIES) throw err;
    }
  }
}
