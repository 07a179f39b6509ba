/**
 * LinkTable: the interfaces of one network namespace (names, MTUs, MACs, flags, addresses),
 * kept current by rtnetlink notifications instead of re-reading.
 *
 * ```
 * open():  join RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR → start reading → dump
 *          links, then addresses (async) → ready
 * then:    RTM_NEWLINK / RTM_DELLINK / RTM_NEWADDR / RTM_DELADDR applied as the poller reads them
 * ENOBUFS: notifications were lost → dump again (async) into a fresh table, swapped in when done
 * lookup:  Map reads; on a miss, read what is already queued (non-blocking) and look again
 * ```
 * Nothing here blocks the event loop: a lookup never dumps and never waits. Subscribing before
 * the first dump, and applying dump parts and notifications in the order they arrive, leaves no
 * gap: the kernel queues both on the one socket in the order it produced them.
 *
 * Returned `Link`s are snapshots: a change makes a new object, so a `Link` held by a caller
 * never changes under it. Do not mutate them.
 * @module
 */
import { NlmFlags, NetlinkProtocol } from '../netlink/constants.js';
import { AddressFamily } from '../netlink/families.js';
import { formatIpv4, formatIpv6, tryParseIpv4, tryParseIpv6 } from '../ip/address.js';
import { MessageBuilder } from '../netlink/message_builder.js';
import type { MessageIter } from '../netlink/message_iter.js';
import { NetlinkSocket } from '../socket/netlink_socket.js';
import { applyMessage, snapshot, type Entry } from './_link_entries.js';
import { RtnlGroup } from './constants.js';
import { putGetAddrDump, putGetLinkDump } from './link_addr.js';

/** One interface. */
export interface Link {
  /** Interface index (`ifi_index`). */
  index: number;
  /** Interface name (IFLA_IFNAME). */
  name: string;
  /** MTU in bytes (IFLA_MTU). */
  mtu: number;
  /** MAC address, when the link has one. */
  hwAddr: string | undefined;
  /** IFF_* */
  flags: number;
  /** IPv4 addresses, primary ones first. */
  ipv4: string[];
  /** IPv6 addresses, global scope first. */
  ipv6: string[];
}

/** Options of {@link LinkTable.open} and {@link LinkTable.openNow}. */
export interface LinkTableOptions {
  /** Receive buffer for notifications (default 1 MiB); too small a buffer means more re-reads. */
  receiveBufferBytes?: number | undefined;
  /** Told when a re-read fails or the socket fails; the table keeps its last state. */
  onError?: ((err: Error) => void) | undefined;
}

/** Messages on a miss-time catch-up read at most this many batches (the queue is short). */
const CATCH_UP_BATCHES = 8;

/** The interfaces of one network namespace, kept current (see the module comment). Close it with `close()`. */
export class LinkTable {
  /** Full re-reads after the first (lost notifications, or a dump the kernel marked inconsistent). */
  resyncs = 0;
  /** Notifications applied. */
  notifications = 0;

  #sock: NetlinkSocket;
  #onError: ((err: Error) => void) | undefined;
  #live = new Map<number, Entry>();
  /** The table a dump in progress fills; notifications go to it as well as to `#live`. */
  #building: Map<number, Entry> | undefined;
  #dumping: Promise<void> | undefined;
  /** Another dump is due when the current one ends (notifications were lost meanwhile). */
  #again = false;
  #dumps = 0;
  #closed = false;
  #byName = new Map<string, number>();
  #byAddr = new Map<string, number>();
  #indexed = false;

  private constructor(sock: NetlinkSocket, onError: ((err: Error) => void) | undefined) {
    this.#sock = sock;
    this.#onError = onError;
  }

  /**
   * Opens a table for the namespace at `netnsPath` (default: this process's).
   * @throws {SystemCallError} when the socket cannot be opened or the groups joined.
   * @throws {NetlinkError} when the first dump fails (ETIMEDOUT after 5 s).
   * @example
   * ```ts
   * const links = await LinkTable.open();
   * links.get(packet.indev)?.ipv4[0];
   * links.close();
   * ```
   */
  static async open(netnsPath?: string, options: LinkTableOptions = {}): Promise<LinkTable> {
    const table = LinkTable.#subscribe(netnsPath, options);
    try {
      await table.resync();
      return table;
    } catch (err) {
      table.close();
      throw err;
    }
  }

  /**
   * {@link open} for a synchronous caller (a socket's first sendto() by interface or address,
   * before anything was bound): the first read uses dumps the kernel answers within the calls
   * that request and read them, so nothing waits. Later changes arrive as notifications.
   * @throws {NetlinkError} EAGAIN if the kernel's answer was not complete (never seen).
   */
  static openNow(netnsPath?: string, options: LinkTableOptions = {}): LinkTable {
    const table = LinkTable.#subscribe(netnsPath, options);
    try {
      table.#dumpNow();
      return table;
    } catch (err) {
      table.close();
      throw err;
    }
  }

  /** A table on a socket that has joined the link and address groups and reads notifications. */
  static #subscribe(netnsPath: string | undefined, options: LinkTableOptions): LinkTable {
    const sock = NetlinkSocket.open(NetlinkProtocol.NETLINK_ROUTE, {
      netnsPath,
      receiveBufferBytes: options.receiveBufferBytes ?? 1 << 20,
      slotSize: 32768,
      batch: 8,
    });
    try {
      for (const g of [RtnlGroup.RTNLGRP_LINK, RtnlGroup.RTNLGRP_IPV4_IFADDR, RtnlGroup.RTNLGRP_IPV6_IFADDR]) sock.joinGroup(g);
      const table = new LinkTable(sock, options.onError);
      sock.start((it) => table.#onNotification(it), {
        onError: (err) => table.#report(err),
        onOverrun: () => void table.resync().catch((err: Error) => table.#report(err)),
      });
      // The table must not keep the process alive by itself (timers of a dump still do).
      sock.ref(false);
      return table;
    } catch (err) {
      sock.close();
      throw err;
    }
  }

  /** The link with `index` (0 means "no interface": undefined). */
  get(index: number): Link | undefined {
    if (index === 0) return undefined;
    const e = this.#live.get(index) ?? (this.#catchUp() ? this.#live.get(index) : undefined);
    return e && snapshot(e);
  }

  /** The link named `name`. */
  byName(name: string): Link | undefined {
    return this.#find(() => this.#byName.get(name));
  }

  /** The link holding the local address `address` (IPv4 or IPv6 text, any valid spelling). */
  byAddress(address: string): Link | undefined {
    const key = canonicalAddress(address);
    return this.#find(() => this.#byAddr.get(key));
  }

  /** Every link, by index. */
  all(): Link[] {
    return [...this.#live.values()].sort((a, b) => a.index - b.index).map(snapshot);
  }

  /**
   * Reads everything again in the background (done by itself after lost notifications).
   * Concurrent calls share one re-read. Resolves when the table is current again.
   */
  resync(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#dumping) {
      this.#again = true;
      return this.#dumping;
    }
    const running = (async () => {
      do {
        this.#again = false;
        await this.#dump();
      } while (this.#again && !this.#closed);
    })();
    this.#dumping = running.finally(() => (this.#dumping = undefined));
    return this.#dumping;
  }

  /** Resolves when no re-read is in progress. */
  async settled(): Promise<void> {
    while (this.#dumping) await this.#dumping.catch(() => undefined);
  }

  /** Stops listening and closes the socket; lookups then answer from the last state. */
  close(): void {
    this.#closed = true;
    this.#sock.close();
  }

  async #dump(): Promise<void> {
    const read = this.#startRead();
    try {
      for (const r of read.requests) await this.#sock.dump(r.bytes, r.seq, r.op, read.apply);
      read.finish();
    } finally {
      this.#building = undefined;
    }
  }

  /** {@link #dump} with reads that never wait (see openNow). */
  #dumpNow(): void {
    const read = this.#startRead();
    try {
      for (const r of read.requests) this.#sock.dumpNow(r.bytes, r.seq, r.op, read.apply);
      read.finish();
    } finally {
      this.#building = undefined;
    }
  }

  /** One full read (links, then addresses) into a fresh table, swapped in by `finish()`. */
  #startRead(): { requests: Array<{ bytes: Uint8Array; seq: number; op: string }>; apply: (it: MessageIter) => void; finish: () => void } {
    const building = new Map<number, Entry>();
    this.#building = building;
    const linkSeq = this.#sock.nextSeq();
    const addrSeq = this.#sock.nextSeq();
    return {
      requests: [
        { bytes: putGetLinkDump(new MessageBuilder(128), linkSeq, AddressFamily.AF_UNSPEC).bytes(), seq: linkSeq, op: 'list interfaces' },
        { bytes: putGetAddrDump(new MessageBuilder(128), addrSeq, AddressFamily.AF_UNSPEC).bytes(), seq: addrSeq, op: 'list interface addresses' },
      ],
      apply: (it) => {
        if ((it.flags & NlmFlags.NLM_F_DUMP_INTR) !== 0) this.#again = true;
        applyMessage(building, it);
      },
      finish: () => {
        if (this.#dumps++ > 0) this.resyncs++;
        this.#live = building;
        this.#indexed = false;
      },
    };
  }

  #onNotification(it: MessageIter): void {
    let changed: boolean;
    try {
      changed = applyMessage(this.#live, it);
      if (this.#building) changed = applyMessage(this.#building, it) || changed;
    } catch (err) {
      // A message we cannot read: say so, and read everything again rather than guess.
      this.#report(err as Error);
      void this.resync().catch((e: Error) => this.#report(e));
      return;
    }
    if (changed) {
      this.notifications++;
      this.#indexed = false;
    }
  }

  /** Looks `key()` up in the name/address index; on a miss reads queued notifications and retries. */
  #find(key: () => number | undefined): Link | undefined {
    let index = this.#index(key);
    if (index === undefined && this.#catchUp()) index = this.#index(key);
    const e = index === undefined ? undefined : this.#live.get(index);
    return e && snapshot(e);
  }

  #index(key: () => number | undefined): number | undefined {
    if (!this.#indexed) {
      this.#byName.clear();
      this.#byAddr.clear();
      for (const e of this.#live.values()) {
        if (!this.#byName.has(e.name)) this.#byName.set(e.name, e.index);
        for (const a of [...e.v4, ...e.v6]) if (!this.#byAddr.has(a.address)) this.#byAddr.set(a.address, e.index);
      }
      this.#indexed = true;
    }
    return key();
  }

  /**
   * Reads what the kernel has already queued (non-blocking), so a change made a moment ago (an
   * interface `ip link add` just made) is seen by the lookup that missed it.
   * @returns whether anything was read.
   */
  #catchUp(): boolean {
    if (this.#closed) return false;
    const before = this.notifications;
    try {
      for (let i = 0; i < CATCH_UP_BATCHES && this.#sock.receiveOnce() > 0; i++);
    } catch {
      // A failing socket is reported by its poller; the lookup answers from what it has.
    }
    return this.notifications !== before;
  }

  #report(err: Error): void {
    if (!this.#closed) this.#onError?.(err);
  }
}

/** RFC 5952 text for an IPv4/IPv6 address (as the decoder writes them), else the input. */
function canonicalAddress(address: string): string {
  const v4 = tryParseIpv4(address);
  if (v4) return formatIpv4(v4);
  const v6 = tryParseIpv6(address);
  return v6 ? formatIpv6(v6) : address;
}
