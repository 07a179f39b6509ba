/**
 * The LinkTable's records and how one RTM_NEWLINK / DELLINK / NEWADDR / DELADDR message (from a
 * dump or a notification) changes them. Pure: no I/O.
 *
 * Only messages of family AF_UNSPEC describe a link: the bridge sends RTM_DELLINK with family
 * AF_BRIDGE when a port leaves it (the link lives on), and IPv6 sends RTM_NEWLINK with family
 * AF_INET6 for its per-link settings. Those are ignored.
 * @module
 */
import type { MessageIter } from '../netlink/message_iter.js';
import { AddressFamily } from '../netlink/families.js';
import { IfaFlags, RtmType, RtScope } from './constants.js';
import { parseAddrMessage, parseLinkMessage } from './link_addr.js';
import type { Link } from './link_table.js';

/** One interface as the table keeps it; `link` caches the snapshot handed out. */
export interface Entry {
  index: number;
  name: string;
  mtu: number;
  hwAddr: string | undefined;
  flags: number;
  v4: Array<{ address: string; secondary: boolean }>;
  v6: Array<{ address: string; scope: number }>;
  link: Link | undefined;
}

/**
 * Applies one message to `table`.
 * @returns whether the table changed.
 * @throws {PacketError} on a malformed message.
 */
export function applyMessage(table: Map<number, Entry>, it: MessageIter): boolean {
  switch (it.type) {
    case RtmType.RTM_NEWLINK:
    case RtmType.RTM_DELLINK:
      return applyLink(table, it);
    case RtmType.RTM_NEWADDR:
    case RtmType.RTM_DELADDR:
      return applyAddr(table, it);
    default:
      return false;
  }
}

/** The public, frozen-by-convention view of `e` (made once per change). */
export function snapshot(e: Entry): Link {
  e.link ??= {
    index: e.index,
    name: e.name,
    mtu: e.mtu,
    hwAddr: e.hwAddr,
    flags: e.flags,
    // Primary IPv4 addresses first; global IPv6 addresses before link-local ones, so "the
    // receiving interface's address" is a routable one. Sorts are stable: kernel order stays.
    ipv4: [...e.v4].sort((a, b) => Number(a.secondary) - Number(b.secondary)).map((a) => a.address),
    ipv6: [...e.v6].sort((a, b) => rank(a.scope) - rank(b.scope)).map((a) => a.address),
  };
  return e.link;
}

function rank(scope: number): number {
  return scope === RtScope.RT_SCOPE_UNIVERSE ? 0 : 1;
}

function applyLink(table: Map<number, Entry>, it: MessageIter): boolean {
  if (it.end - it.payloadOffset >= 1 && it.buffer[it.payloadOffset] !== AddressFamily.AF_UNSPEC) return false;
  const l = parseLinkMessage(it.buffer, it.payloadOffset, it.end);
  if (it.type === RtmType.RTM_DELLINK) return table.delete(l.index);
  const e = table.get(l.index);
  if (!e) {
    table.set(l.index, { index: l.index, name: l.name, mtu: l.mtu, hwAddr: l.address, flags: l.flags, v4: [], v6: [], link: undefined });
    return true;
  }
  // A change notification carries the whole link; keep what a partial one might leave out.
  const next = { name: l.name || e.name, mtu: l.mtu || e.mtu, hwAddr: l.address ?? e.hwAddr, flags: l.flags };
  if (next.name === e.name && next.mtu === e.mtu && next.hwAddr === e.hwAddr && next.flags === e.flags) return false;
  Object.assign(e, next);
  e.link = undefined;
  return true;
}

function applyAddr(table: Map<number, Entry>, it: MessageIter): boolean {
  const a = parseAddrMessage(it.buffer, it.payloadOffset, it.end);
  const e = table.get(a.index);
  // An address of a link not (yet) known: the link's dump or NEWLINK brings it later.
  if (!e) return false;
  const del = it.type === RtmType.RTM_DELADDR;
  if (a.family === AddressFamily.AF_INET) {
    const address = a.local ?? a.address;
    if (address === undefined) return false;
    const i = e.v4.findIndex((x) => x.address === address);
    const secondary = (a.flags & IfaFlags.IFA_F_SECONDARY) !== 0;
    if (del) {
      if (i < 0) return false;
      e.v4.splice(i, 1);
    } else if (i < 0) {
      e.v4.push({ address, secondary });
    } else if (e.v4[i]!.secondary !== secondary) {
      e.v4[i]!.secondary = secondary; // a secondary promoted after its primary went away
    } else {
      return false;
    }
  } else if (a.family === AddressFamily.AF_INET6) {
    const address = a.address;
    if (address === undefined) return false;
    const i = e.v6.findIndex((x) => x.address === address);
    if (del) {
      if (i < 0) return false;
      e.v6.splice(i, 1);
    } else if (i < 0) {
      e.v6.push({ address, scope: a.scope });
    } else {
      return false; // flag changes (DAD done, deprecated) change nothing here
    }
  } else {
    return false;
  }
  e.link = undefined;
  return true;
}
