/**
 * The error family shared by every layer (see README "Errors").
 *
 * Misuse by the caller throws the built-ins (`TypeError`, `RangeError`); conditions a program may
 * want to catch are `DivertError`s with a stable `code`. Match on `err.code`, not on messages.
 * @module
 */
import { getSystemErrorMap } from 'node:util';

/** Base class for every domain condition; `code` is the contract (`ERR_DIVERT_*` or an errno name). */
export class DivertError extends Error {
  /** Stable name of the condition: `ERR_DIVERT_*` or an errno name (`EPERM`). */
  readonly code: string;
  /** `options.cause`: the error underneath, when there is one. */
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DivertError';
    this.code = code;
  }
}

const SYSTEM_ERRORS = getSystemErrorMap();

/** Kernel-internal errnos that netlink answers carry and libuv does not name (include/linux/errno.h). */
const KERNEL_ERRNOS: ReadonlyMap<number, readonly [string, string]> = new Map([
  [85, ['ERESTART', 'interrupted system call should be restarted']],
  [512, ['ERESTARTSYS', 'restart system call (kernel-internal)']],
  [524, ['ENOTSUPP', 'operation not supported (kernel-internal)']],
]);

/** Name of a positive errno (`1` → `EPERM`, `85` → `ERESTART`); `E<n>` when unknown. */
export function errnoName(errno: number): string {
  const n = Math.abs(errno);
  return SYSTEM_ERRORS.get(-n)?.[0] ?? KERNEL_ERRNOS.get(n)?.[0] ?? `E${n}`;
}

/** What a positive errno means (`1` → "operation not permitted"); `errno <n>` when unknown. */
export function errnoText(errno: number): string {
  const n = Math.abs(errno);
  return SYSTEM_ERRORS.get(-n)?.[1] ?? KERNEL_ERRNOS.get(n)?.[1] ?? `errno ${n}`;
}

/** A native call returned `-errno`. `code` is the errno name, as in Node's SystemError. */
export class SystemCallError extends DivertError {
  /** The positive errno. */
  readonly errno: number;
  /** The system call that failed ("bind", "sendto"…). */
  readonly syscall: string;
  /** `errno` may be given negative, as the addon returns it. */
  constructor(syscall: string, errno: number, message?: string) {
    const name = errnoName(errno);
    super(message ?? `${syscall} failed: ${name}`, name);
    this.name = 'SystemCallError';
    this.errno = Math.abs(errno);
    this.syscall = syscall;
  }
}

/** The kernel answered a netlink request with NLMSG_ERROR (a NACK, not a failed syscall). */
export class NetlinkError extends DivertError {
  /** The positive errno of the NACK. */
  readonly errno: number;
  /** What was asked ("Cannot bind divert port 7"). */
  readonly op: string;
  /** Sequence number of the refused request. */
  readonly seq: number;
  /** The kernel's extended ACK text (NLMSGERR_ATTR_MSG), when it gave one. */
  readonly extackMessage: string | undefined;
  /** Byte offset in the request of the attribute the extended ACK points at, when given. */
  readonly extackOffset: number | undefined;
  /** `extack` as the kernel's answer carried it; `message` replaces the default text. */
  constructor(
    op: string,
    errno: number,
    seq: number,
    extack: { message?: string | undefined; offset?: number | undefined } = {},
    message?: string,
  ) {
    const name = errnoName(errno);
    const detail = extack.message ? ` (${extack.message})` : '';
    super(message ?? `${op} refused by the kernel: ${name}${detail}`, name);
    this.name = 'NetlinkError';
    this.errno = Math.abs(errno);
    this.op = op;
    this.seq = seq;
    this.extackMessage = extack.message;
    this.extackOffset = extack.offset;
  }
}

/** What a FirewallError knows: where the kernel refused an nf_tables batch, and why. */
export interface FirewallErrorDetails {
  /** nf_tables message the kernel refused, by uapi name ("NFT_MSG_NEWRULE"). */
  messageType?: string | undefined;
  /** What that message was about ("rule inet divert-123 prerouting"). */
  object?: string | undefined;
  /** The attribute the extended ACK pointed at ("NFTA_RULE_EXPRESSIONS > elem 3 (cmp) > NFTA_CMP_DATA"). */
  attribute?: string | undefined;
  /** Positive errno of the refusal. */
  errno?: number | undefined;
  /** The kernel's extended ACK text (NLMSGERR_ATTR_MSG), when it gave one. */
  extackMessage?: string | undefined;
}

/**
 * A firewall change was refused: the kernel refused an nf_tables batch (then `code` is the errno
 * name and `messageType`, `object`, `attribute` say where), or divert found the kernel's answer
 * unusable (`ERR_DIVERT_FIREWALL`).
 */
export class FirewallError extends DivertError {
  /** See {@link FirewallErrorDetails.messageType}. */
  readonly messageType: string | undefined;
  /** See {@link FirewallErrorDetails.object}. */
  readonly object: string | undefined;
  /** See {@link FirewallErrorDetails.attribute}. */
  readonly attribute: string | undefined;
  /** See {@link FirewallErrorDetails.errno}. */
  readonly errno: number | undefined;
  /** See {@link FirewallErrorDetails.extackMessage}. */
  readonly extackMessage: string | undefined;
  /** `code` is the errno name for a refusal, `ERR_DIVERT_FIREWALL` otherwise. */
  constructor(message: string, details: FirewallErrorDetails = {}, code = 'ERR_DIVERT_FIREWALL', options?: { cause?: unknown }) {
    super(message, code, options);
    this.name = 'FirewallError';
    this.messageType = details.messageType;
    this.object = details.object;
    this.attribute = details.attribute;
    this.errno = details.errno;
    this.extackMessage = details.extackMessage;
  }
}

/** Bytes a checked packet view or parser rejected. `layer` names the protocol, `reason` the fault. */
export class PacketError extends RangeError {
  /** Always `ERR_DIVERT_PACKET`. */
  readonly code = 'ERR_DIVERT_PACKET';
  /** The protocol whose bytes were wrong ("IPv4", "UDP"…). */
  readonly layer: string;
  /** What was wrong with them. */
  readonly reason: string;
  /** The message is `Cannot parse <layer> packet: <reason>`. */
  constructor(layer: string, reason: string) {
    super(`Cannot parse ${layer} packet: ${reason}`);
    this.name = 'PacketError';
    this.layer = layer;
    this.reason = reason;
  }
}

/** What a FilterSyntaxError may say beyond its message. */
export interface FilterSyntaxErrorOptions {
  /** What the parser would have accepted at `offset` ("a field", "')'", "'and'"…). */
  expected?: readonly string[] | undefined;
}

/**
 * A filter string or rule text could not be lexed, parsed or checked. The first line of
 * `message` is `<reason> at offset <n>: "<filter>"`; the lines after it show the offending line
 * of the filter with a caret under the character at `offset` (also in `caret`).
 */
export class FilterSyntaxError extends SyntaxError {
  /** Always `ERR_DIVERT_FILTER_SYNTAX`. */
  readonly code = 'ERR_DIVERT_FILTER_SYNTAX';
  /** The filter (or rule) text as given. */
  readonly filter: string;
  /** UTF-16 index into `filter` of the offending character (`filter.length` at the end). */
  readonly offset: number;
  /** 1-based line and column of `offset` (columns count UTF-16 units, a tab counts one). */
  readonly line: number;
  /** See {@link line}. */
  readonly column: number;
  /** The message without the location: "Unknown field \"tcp.dstport\" (did you mean tcp.DstPort?)". */
  readonly reason: string;
  /** What the parser would have accepted at `offset` (empty when it cannot say). */
  readonly expected: readonly string[];
  /** `message` is the reason; the location and caret lines are added. */
  constructor(message: string, filter: string, offset: number, options: FilterSyntaxErrorOptions = {}) {
    const at = Math.max(0, Math.min(offset, filter.length));
    const before = filter.slice(0, at);
    const line = before.split('\n').length;
    const lineStart = before.lastIndexOf('\n') + 1;
    const caret = caretLines(filter, lineStart, at);
    super(`${message} at offset ${offset}: ${JSON.stringify(filter)}\n${caret}`);
    this.name = 'FilterSyntaxError';
    this.filter = filter;
    this.offset = offset;
    this.line = line;
    this.column = at - lineStart + 1;
    this.reason = message;
    this.expected = options.expected ?? [];
  }

  /** The offending line of the filter and a caret under the offending character. */
  get caret(): string {
    const at = Math.max(0, Math.min(this.offset, this.filter.length));
    return caretLines(this.filter, this.filter.slice(0, at).lastIndexOf('\n') + 1, at);
  }
}

/** `  <line>\n  <pad>^`: tabs in the pad are kept so the caret lines up in a terminal. */
function caretLines(filter: string, lineStart: number, at: number): string {
  const end = filter.indexOf('\n', lineStart);
  const text = filter.slice(lineStart, end < 0 ? undefined : end).replace(/\r$/, '');
  const pad = filter.slice(lineStart, at).replace(/[^\t]/g, ' ');
  return `  ${text}\n  ${pad}^`;
}

/** The handle was used after `close()` or `destroy()`. */
export class DivertClosedError extends DivertError {
  /** `what` names the closed thing in the message. */
  constructor(what = 'divert socket') {
    super(`The ${what} is closed`, 'ERR_DIVERT_CLOSED');
    this.name = 'DivertClosedError';
  }
}
