/**
 * Wrong inputs to the library, one row each: what is called, the error class (and code) it must
 * throw or reject with, and what its message must say (the wrong thing, and the way to fix it).
 * Rows run against the fake kernel (src/testing): privileges and kernel support are scripted.
 * @module
 */
import { DivertClosedError, DivertError, FilterSyntaxError, FirewallError, PacketError } from '../../src/errors.js';
import { createDivertSocket, type DivertSocket } from '../../src/divert/divert_socket.js';
import type { DivertSocketOptions } from '../../src/divert/options.js';
import { parseFilter } from '../../src/filter/check.js';
import { addRule } from '../../src/firewall/api.js';
import { parseRule } from '../../src/firewall/parse.js';
import { Errno } from '../../src/_native/errno.js';
import { NetlinkProtocol } from '../../src/netlink/constants.js';
import { buildUdpPacket } from '../../src/packet/build.js';
import { fragmentPacket, FragmentationNeededError } from '../../src/packet/fragment.js';
import { parsePacket } from '../../src/packet/parse.js';
import { encodePcapRecord } from '../../src/pcap/pcap_writer.js';
import { parsePcap } from '../../src/pcap/pcap_reader.js';
import type { FakeKernel } from '../../src/testing/fake_kernel.js';
import { udp4 } from '../../src/testing/fixtures.js';

type ErrorClass = abstract new (...args: never[]) => Error;

export interface ApiCase {
  /** What is wrong, in words. */
  what: string;
  /** Scripts the fake kernel before the call (missing privilege, missing kernel support). */
  setup?: (kernel: FakeKernel) => void;
  /** The call; a returned promise must reject. `sock` opens a socket the row's teardown closes. */
  run: (sock: (o?: DivertSocketOptions) => DivertSocket, kernel: FakeKernel) => unknown;
  error: ErrorClass;
  code?: string;
  /** Every pattern must match the message: what was wrong and how to fix it. */
  says: RegExp[];
}

const opt = (o: Record<string, unknown>): DivertSocketOptions => ({ handleSignals: false, ...o }) as DivertSocketOptions;
const bad = (what: string, o: Record<string, unknown>, error: ErrorClass, says: RegExp[]): ApiCase =>
  ({ what, run: (sock) => sock(opt(o)).ready, error, says });

/** An IPv4 header of `n` bytes whose first byte is `vihl`, total length `total`. */
function ipv4(n: number, vihl = 0x45, total = n): Uint8Array {
  const b = new Uint8Array(n);
  b[0] = vihl;
  b[2] = total >> 8;
  b[3] = total & 0xff;
  return b;
}

/** A closed socket (bound to 7 first). */
async function closed(sock: (o?: DivertSocketOptions) => DivertSocket): Promise<DivertSocket> {
  const s = sock(opt({ port: 7 }));
  await s.ready;
  await s.close();
  return s;
}

export const API_CASES: readonly ApiCase[] = [
  // ── options ──
  { what: 'options not an object', run: (sock) => sock('7' as never), error: TypeError, says: [/options object/, /"7"|'7'|string/] },
  bad('port above 65535', { port: 70000 }, RangeError, [/port/, /0 to 65535/, /70000/]),
  bad('negative port', { port: -1 }, RangeError, [/port/, /0 to 65535/]),
  bad('fractional port', { port: 1.5 }, RangeError, [/port/, /integer/]),
  bad('port as a string', { port: '7' }, TypeError, [/port/, /number/]),
  bad('unknown option (typo)', { prot: 7 }, TypeError, [/Unknown option "prot"/, /port/]),
  bad('priority out of range', { port: 7, priority: 40000 }, RangeError, [/priority/, /-30000 to 30000/]),
  bad('negative verdict timeout', { verdictTimeoutMs: -1 }, RangeError, [/verdictTimeoutMs/, /0 \(wait forever\)/]),
  bad('NaN verdict timeout', { verdictTimeoutMs: Number.NaN }, RangeError, [/verdictTimeoutMs/, /NaN/]),
  bad('unknown timeout verdict', { timeoutVerdict: 'reject' }, TypeError, [/timeoutVerdict/, /'accept' or 'drop'/]),
  bad('unknown close verdict', { closeVerdict: 'maybe' }, TypeError, [/closeVerdict/, /'accept' or 'drop'/]),
  bad('unknown copy mode', { copyMode: 'all' }, TypeError, [/copyMode/, /'packet' or 'meta'/]),
  bad('copy range too large', { copyRange: 70000 }, RangeError, [/copyRange/, /70000/]),
  bad('queue length 0', { maxQueueLength: 0 }, RangeError, [/maxQueueLength/, /from 1/]),
  bad('highWaterMark 0', { highWaterMark: 0 }, RangeError, [/highWaterMark/, /from 1/]),
  bad('boolean option as a string', { failOpen: 'yes' }, TypeError, [/failOpen/, /true or false/]),
  bad('rules not an array', { port: 7, rules: '-A input -p icmp' }, TypeError, [/rules/, /array/]),
  bad('a rule that is a number', { port: 7, rules: [42] }, TypeError, [/rules\[0\]/, /rule text/]),
  bad('empty filter', { filter: '' }, TypeError, [/filter/, /such as/]),
  bad('filter of the wrong type', { filter: 80 }, TypeError, [/filter/, /string/]),
  bad('signal not an AbortSignal', { signal: {} }, TypeError, [/signal/, /AbortSignal/]),
  bad('empty namespace name', { netns: '' }, TypeError, [/netns/, /namespace name/]),
  bad('namespace name with a newline', { port: 7, netns: 'lab\n1' }, TypeError, [/Invalid network namespace "lab\\n1"/, /no white space or control characters/]),
  bad('namespace name with a slash and no leading /', { port: 7, netns: 'a/b' }, TypeError, [/netns|namespace/, /absolute|\//]),
  // ── rules, filters, addresses, masks, ports, interface names ──
  bad('rule with an unknown protocol', { port: 7, rules: ['-A input -p nonsense-proto'] }, FilterSyntaxError, [/Unknown protocol "nonsense-proto"/, /use tcp, udp/]),
  bad('rule with a mask past 32', { port: 7, rules: ['-A input -s 198.18.0.0/33'] }, FilterSyntaxError, [/Bad mask "33"/, /prefix length 0–32/]),
  bad('rule with a non-contiguous netmask', { port: 7, rules: ['-A input -d 198.18.0.0/255.0.255.0'] }, FilterSyntaxError, [/Bad mask/, /contiguous netmask/]),
  bad('rule with a bad IPv4 address', { port: 7, rules: ['-A input -s 198.18.0.300'] }, FilterSyntaxError, [/Bad address "198.18.0.300"/, /a\.b\.c\.d/]),
  bad('rule with a reversed port range', { port: 7, rules: ['-A input -p tcp --dport 90:80'] }, FilterSyntaxError, [/reversed/, /write 80:90/]),
  bad('rule with ports but no protocol', { port: 7, rules: ['-A input --dport 80'] }, FilterSyntaxError, [/Ports need -p tcp, udp/]),
  bad('interface name with a control character', { port: 7, rules: ['-A input -i eth0\u0007'] }, FilterSyntaxError, [/Bad interface name "eth0\\u0007"/, /control/, /e\.g\. eth0/]),
  bad('interface name of 16 characters', { port: 7, rules: ['-A input -i abcdefghijklmnop'] }, FilterSyntaxError, [/Bad interface name/, /1–15 characters/]),
  bad('filter that ends early', { filter: 'tcp.DstPort ==' }, FilterSyntaxError, [/Expected a value/, /offset 14/]),
  bad('filter with an unknown field', { filter: 'tcp.DestPort == 80' }, FilterSyntaxError, [/Unknown field "tcp.DestPort" \(did you mean tcp.DstPort\?\)/]),
  { what: 'parseFilter() of a number', run: () => parseFilter(80 as never), error: TypeError, says: [/A filter is a string/, /number/] },
  { what: 'parseRule() with an IPv4 address in an IPv6 rule', run: () => parseRule('-A input -6 -s 198.18.0.1 -j DIVERT 1'), error: FilterSyntaxError, says: [/is IPv4 but -6/, /one rule per family/] },
  { what: 'parseRule() with a divert port past 65535', run: () => parseRule('-A input -j DIVERT 65536'), error: RangeError, says: [/Divert port 65536/, /0–65535/] },
  { what: 'addRule() of a rule object with an unknown chain', run: () => addRule({ chain: 'sideways', family: 'ipv4', port: 1, passThrough: false } as never), error: TypeError, says: [/Unknown chain "sideways"/, /use input, output/] },
  // ── packets of every malformation ──
  { what: 'parsePacket() of an empty buffer', run: () => parsePacket(new Uint8Array(0)), error: PacketError, says: [/empty buffer/] },
  { what: 'parsePacket() of IP version 5', run: () => parsePacket(Uint8Array.of(0x55, 0, 0, 20)), error: PacketError, says: [/unknown IP version 5/] },
  { what: 'parsePacket() of a 10-byte IPv4 header', run: () => parsePacket(ipv4(10)), error: PacketError, says: [/IPv4/, /10/] },
  { what: 'parsePacket() of IPv4 with IHL 4', run: () => parsePacket(ipv4(40, 0x44)), error: PacketError, says: [/IPv4/, /header length|IHL/i] },
  { what: 'parsePacket() of IPv4 whose total length exceeds the buffer', run: () => parsePacket(ipv4(40, 0x45, 1500)), error: PacketError, says: [/IPv4/, /1500/] },
  { what: 'parsePacket() of IPv6 whose payload length exceeds the buffer', run: () => { const b = new Uint8Array(48); b[0] = 0x60; b[4] = 0x05; b[6] = 59; return parsePacket(b); }, error: PacketError, says: [/IPv6/, /1280|payload/] },
  { what: 'fragmentPacket() with a negative MTU', run: () => fragmentPacket(udp4(), -1), error: RangeError, says: [/MTU -1/] },
  { what: 'fragmentPacket() of a DF packet over the MTU', run: () => fragmentPacket(buildUdpPacket({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 1, dstPort: 2, payload: new Uint8Array(1000), dontFragment: true }), 576), error: FragmentationNeededError, says: [/larger than MTU 576/, /DF/] },
  { what: 'buildUdpPacket() with a port past 65535', run: () => buildUdpPacket({ src: '198.18.0.1', dst: '198.18.0.2', srcPort: 70000, dstPort: 2, payload: '' }), error: RangeError, says: [/70000/, /65535/] },
  { what: 'buildUdpPacket() with a bad address', run: () => buildUdpPacket({ src: '198.18.0.256', dst: '198.18.0.2', srcPort: 1, dstPort: 2, payload: '' }), error: SyntaxError, says: [/198\.18\.0\.256/] },
  { what: 'encodePcapRecord() with a negative time', run: () => encodePcapRecord(udp4(), -5), error: RangeError, says: [/time >= 0/, /-5/] },
  { what: 'parsePcap() of a file that is not pcap', run: () => parsePcap(new TextEncoder().encode('hello, this is not a capture file')), error: Error, says: [/pcap|capture/i] },
  // ── wrong types to a socket, use after close ──
  { what: 'sendto() of a string', run: async (sock) => { const s = sock(opt({ port: 7 })); await s.ready; return s.sendto('abc' as never); }, error: TypeError, says: [/sendto\(\) takes the packet as a Uint8Array/, /string|"abc"/] },
  { what: 'sendto() with an address that is a number', run: async (sock) => { const s = sock(opt({ port: 7 })); await s.ready; return s.sendto(udp4(), 42 as never); }, error: TypeError, says: [/DivertAddress, an address string/, /42/] },
  { what: 'bind() to port 70000', run: (sock) => sock(opt({})).bind(70000), error: RangeError, says: [/70000/, /0 to 65535|0–65535/] },
  { what: 'recvfrom() before bind()', run: (sock) => sock(opt({})).recvfrom(), error: DivertError, code: 'ERR_DIVERT_NOT_BOUND', says: [/not bound/, /call bind\(port\) first/] },
  { what: 'sendto() after close()', run: async (sock) => (await closed(sock)).sendto(udp4()), error: DivertClosedError, says: [/closed/] },
  { what: 'recvfrom() after close()', run: async (sock) => (await closed(sock)).recvfrom(), error: DivertClosedError, says: [/closed/] },
  { what: 'onPacket() after close()', run: async (sock) => (await closed(sock)).onPacket(() => {}), error: DivertClosedError, says: [/closed/] },
  { what: 'onPacket() with a handler that is not a function', run: (sock) => sock(opt({})).onPacket('reinject' as never), error: TypeError, says: [/onPacket\(\) takes a function/, /"reinject"|string/] },
  { what: 'a second onPacket() handler', run: (sock) => { const s = sock(opt({})); s.onPacket(() => {}); return s.onPacket(() => {}); }, error: DivertError, code: 'ERR_DIVERT_HANDLER', says: [/already has its onPacket\(\) handler/, /one per socket/] },
  { what: 'bind() after close()', run: async (sock) => (await closed(sock)).bind(8), error: DivertClosedError, says: [/closed/] },
  // ── missing privilege, missing kernel support, missing namespace ──
  {
    what: 'no CAP_NET_ADMIN (even as root of another user namespace)', setup: (k) => { k.capNetAdmin = false; },
    run: (sock) => sock(opt({ port: 7 })).ready, error: DivertError, code: 'EPERM', says: [/Cannot bind divert port 7/, /CAP_NET_ADMIN/, /run as root/],
  },
  {
    what: 'a port bound by another socket of this process', run: async (sock) => { await sock(opt({ port: 7 })).ready; return sock(opt({ port: 7 })).ready; },
    error: DivertError, code: 'ERR_DIVERT_PORT_IN_USE', says: [/Cannot bind divert port 7: this process already has it bound, on another socket/, /close that socket first, or pick another port/],
  },
  {
    what: 'no CAP_NET_ADMIN for rules', setup: (k) => { k.capNetAdmin = false; },
    run: () => addRule('-A input -p icmp -j DIVERT 7'), error: FirewallError, code: 'EPERM', says: [/EPERM|not permitted/, /CAP_NET_ADMIN|root/],
  },
  {
    what: 'a kernel without nfnetlink', setup: (k) => k.failSocket(Errno.EPROTONOSUPPORT, { protocol: NetlinkProtocol.NETLINK_NETFILTER }),
    run: (sock) => sock(opt({ port: 7 })).ready, error: DivertError, code: 'ERR_DIVERT_NO_KERNEL_SUPPORT', says: [/nfnetlink/, /modprobe|CONFIG_|kernel/],
  },
  {
    what: 'a namespace that does not exist', setup: (k) => k.failSocket(Errno.ENOENT, { netnsPath: '/run/netns/nosuch' }),
    run: (sock) => sock(opt({ port: 7, netns: 'nosuch' })).ready, error: DivertError, code: 'ENOENT', says: [/nosuch/, /ip netns add|ip netns list/],
  },
];
