/**
 * SniffedPacket: a copy of a packet a sniffing socket's rules logged (NFLOG). It has the shape of
 * a DivertPacket — `packet`, `address`, the same address rules — but the original went on when
 * the rule ran, so there is nothing to give a verdict to: `reinject()`, `drop()`, `repeat()` and
 * `queue()` throw `ERR_DIVERT_SNIFFED` (a program written for diverting finds out at its first
 * verdict, instead of believing it dropped or changed traffic). To put bytes on the wire, inject
 * them with the socket's `sendto()` (with `p.address`: where the original was seen).
 * @module
 */
import type { LogMeta } from '../nflog/packet_msg.js';
import type { LinkTable } from '../rtnetlink/link_table.js';
import { DivertError } from '../errors.js';
import { DivertPacket, type AutoReason, type ReinjectOptions, type VerdictSink } from './divert_packet.js';
import { addressOf, familyOf, copyOut } from './received.js';

/** Verdicts never reach a sink: SniffedPacket refuses them first. */
const NO_VERDICTS: VerdictSink = {
  prepare: () => undefined,
  injectVia: () => {},
  settle: () => {},
};

/** A copy of a packet a sniffing socket saw (see the module comment): it takes no verdict. */
export class SniffedPacket extends DivertPacket {
  /** Always true: a copy, not a held packet. */
  readonly sniffed = true;

  /** @throws {DivertError} `ERR_DIVERT_SNIFFED`: a copy takes no verdict (inject with the socket's sendto()). */
  override reinject(_bytes?: Uint8Array, _options?: ReinjectOptions): never {
    throw this.#refuse('reinject()');
  }

  /** @throws {DivertError} `ERR_DIVERT_SNIFFED`: the original went on already. */
  override drop(): never {
    throw this.#refuse('drop()');
  }

  /** @throws {DivertError} `ERR_DIVERT_SNIFFED`. */
  override repeat(_options?: ReinjectOptions): never {
    throw this.#refuse('repeat()');
  }

  /** @throws {DivertError} `ERR_DIVERT_SNIFFED`. */
  override queue(_port: number, _options?: ReinjectOptions): never {
    throw this.#refuse('queue()');
  }

  /** @internal Sniffed copies take no automatic verdict either. */
  override settleAutomatically(_kind: 'accept' | 'drop', _reason: AutoReason): boolean {
    return false;
  }

  #refuse(call: string): DivertError {
    return new DivertError(
      `${call} on packet ${this.id}: it is a copy taken by a sniffing socket, and the original already went on ` +
        '(sniff mode gives no verdicts; inject new bytes with sendto(bytes, packet.address), or divert instead of sniffing)',
      'ERR_DIVERT_SNIFFED',
    );
  }
}

/** The IP packet's own length from its header (IPv4 total length, IPv6 payload + 40); 0 if unreadable. */
function ipLength(b: Uint8Array): number {
  if (b.length >= 4 && b[0]! >> 4 === 4) return (b[2]! << 8) | b[3]!;
  if (b.length >= 6 && b[0]! >> 4 === 6) return 40 + ((b[4]! << 8) | b[5]!);
  return 0;
}

/**
 * The copy `meta` describes in `buf`, numbered `id` (NFLOG has no packet ids: the socket counts);
 * `port` is the sniffing socket's port (its NFLOG group).
 */
export function sniffedPacket(meta: LogMeta, buf: Uint8Array, links: LinkTable | undefined, port: number, id: number): SniffedPacket {
  const len = meta.payloadLength;
  const both = copyOut(buf, meta.payloadOffset, len);
  const bytes = both.subarray(0, len);
  // NFLOG says nothing of a copy cut short by the copy range or snaplen: the IP header does.
  const originalLength = Math.max(len, ipLength(bytes));
  const address = addressOf(meta, familyOf(meta, bytes), len, links, port, false, false, originalLength);
  return new SniffedPacket(NO_VERDICTS, id, bytes, both.subarray(len), address, performance.now());
}
