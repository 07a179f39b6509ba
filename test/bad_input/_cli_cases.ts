/**
 * Wrong command lines, one row each: the exit code (2 usage, 1 runtime), and what the one
 * message must say. Rows run main() in-process against the fake kernel.
 * @module
 */
import type { FakeKernel } from '../../src/testing/fake_kernel.js';

export interface CliCase {
  argv: string[];
  exit: 1 | 2;
  /** Every pattern must match stderr: what was wrong and how to fix it. */
  says: RegExp[];
  setup?: (kernel: FakeKernel) => void;
}

const rule = (...words: string[]): string[] => ['rules', 'add', '-A', 'input', ...words];

export const CLI_CASES: readonly CliCase[] = [
  { argv: ['bogus'], exit: 2, says: [/unknown command "bogus"/, /use intercept, .*rules, filter, demo or doctor/] },
  { argv: ['intercept'], exit: 2, says: [/missing <port>/, /divert intercept 1234/] },
  { argv: ['intercept', 'x'], exit: 2, says: [/port must be a number from 0 to 65535, got "x"/] },
  { argv: ['intercept', '70000'], exit: 2, says: [/port must be a number from 0 to 65535, got 70000/] },
  { argv: ['intercept', '1', '2'], exit: 2, says: [/unexpected argument "2"/] },
  { argv: ['intercept', '1', '--drop', '--reinject'], exit: 2, says: [/--reinject and --drop exclude each other/] },
  { argv: ['intercept', '1', '-c', '0'], exit: 2, says: [/-c needs a packet count of 1 or more, got "0"/] },
  { argv: ['intercept', '1', '--bogus'], exit: 2, says: [/Unknown option '--bogus'/, /--help/] },
  { argv: ['intercept', '1', '--firewall', '-A nochain -p tcp'], exit: 2, says: [/Unknown chain "nochain"/, /use input, output/] },
  { argv: ['intercept', '1', '--firewall', '-A input -p tcp --dport 70000'], exit: 2, says: [/Port 70000/, /0–65535/] },
  { argv: ['intercept', '1', '--firewall', '-A input -i eth0\u0007'], exit: 2, says: [/Bad interface name "eth0\\u0007"/, /control/] },
  { argv: ['intercept', '--filter', 'tcp.DstPort == '], exit: 2, says: [/Expected a value/, /offset 15/] },
  { argv: ['intercept', '--filter', 'foo.Bar == 1'], exit: 2, says: [/Unknown field "foo.Bar"/] },
  { argv: ['intercept', '1', '--netns', 'a\nb'], exit: 2, says: [/--netns: Invalid network namespace "a\\nb"/, /no white space or control characters/] },
  { argv: ['intercept', '1', '--netns', 'a\u0001b'], exit: 2, says: [/--netns: Invalid network namespace/, /control characters/] },
  { argv: ['intercept', '1', '--netns', '../x'], exit: 2, says: [/must be absolute/, /"\.\.\/x"/] },
  {
    argv: ['intercept', '1', '--netns', 'nosuch'], exit: 1, says: [/Cannot open network namespace nosuch/, /ip netns add nosuch/],
    setup: (k) => k.failSocket(2, { netnsPath: '/run/netns/nosuch' }),
  },
  { argv: ['intercept', '1', '-w', ''], exit: 2, says: [/-w needs a file name/] },
  { argv: ['intercept', '1', '-w', '/nonexistent-divert-dir/x.pcap'], exit: 1, says: [/cannot write the pcap file "\/nonexistent-divert-dir\/x.pcap": ENOENT/, /create it first/, /nothing was installed/] },
  { argv: ['intercept', '--filter', 'tcp.DestPort == 80'], exit: 2, says: [/Unknown field "tcp.DestPort" \(did you mean tcp.DstPort\?\)/] },
  { argv: ['intercept', '1', '--firewall', '-A input -p icmp'], exit: 1, says: [/Cannot bind divert port 1: operation requires CAP_NET_ADMIN/, /run as root/], setup: (k) => { k.capNetAdmin = false; } },
  { argv: ['rules', 'bogus'], exit: 2, says: [/unknown command "bogus"/, /use add, insert, delete/] },
  { argv: ['rules', 'add'], exit: 2, says: [/-A needs a chain/, /one of input, output/] },
  { argv: rule(), exit: 2, says: [/Missing target/, /-j DIVERT <port>/] },
  { argv: rule('-j', 'DIVERT', '70000'), exit: 2, says: [/Divert port 70000/, /0–65535/] },
  { argv: rule('-s', '198.18.0.300', '-j', 'DIVERT', '1'), exit: 2, says: [/Bad address "198.18.0.300"/, /a\.b\.c\.d/] },
  { argv: rule('-s', '198.18.0.0/33', '-j', 'DIVERT', '1'), exit: 2, says: [/Bad mask "33"/, /prefix length 0–32/] },
  { argv: rule('-s', '198.18.0.0/255.0.255.0', '-j', 'DIVERT', '1'), exit: 2, says: [/Bad mask "255.0.255.0"/, /contiguous netmask/] },
  { argv: rule('-s', '2001:db8::/129', '-j', 'DIVERT', '1'), exit: 2, says: [/Bad mask "129"/, /0–128/] },
  { argv: rule('-p', 'tcp', '--dport', '80:70000', '-j', 'DIVERT', '1'), exit: 2, says: [/Port 70000/, /0–65535/] },
  { argv: rule('-p', 'tcp', '--dport', '90:80', '-j', 'DIVERT', '1'), exit: 2, says: [/reversed/, /write 80:90/] },
  { argv: rule('--dport', '80', '-j', 'DIVERT', '1'), exit: 2, says: [/Ports need -p tcp/] },
  { argv: rule('-p', 'nosuchproto', '-j', 'DIVERT', '1'), exit: 2, says: [/Unknown protocol "nosuchproto"/, /use tcp, udp/] },
  { argv: rule('-p', '256', '-j', 'DIVERT', '1'), exit: 2, says: [/Protocol number 256/, /0–255/] },
  { argv: rule('-i', 'a\nb', '-j', 'DIVERT', '1'), exit: 2, says: [/contains white space/, /one option or value per argument/] },
  { argv: rule('-i', 'x'.repeat(16), '-j', 'DIVERT', '1'), exit: 2, says: [/Bad interface name/, /1–15 characters/] },
  { argv: rule('-i', 'a/b', '-j', 'DIVERT', '1'), exit: 2, says: [/Bad interface name "a\/b"/, /not allowed/] },
  { argv: rule('-i', 'eth\u00e9', '-j', 'DIVERT', '1'), exit: 2, says: [/Bad interface name/, /non-ASCII/] },
  { argv: rule('-o', 'eth0', '-j', 'DIVERT', '1'), exit: 2, says: [/-o is not valid on chain input/, /use -i/] },
  { argv: rule('-p', 'icmp', '--icmp-type', '300', '-j', 'DIVERT', '1'), exit: 2, says: [/ICMP type\/code 300/, /0–255/] },
  { argv: rule('-6', '-s', '198.18.0.1', '-j', 'DIVERT', '1'), exit: 2, says: [/is IPv4 but -6/, /one rule per family/] },
  { argv: rule('-j', 'DIVERT', '1', '--priority', '99999'), exit: 2, says: [/priority must be an integer from -30000 to 30000/, /99999/] },
  { argv: rule('-j', 'DIVERT', '1', '--label', 'a\nb'), exit: 2, says: [/--label: Invalid owner label "a\\nb"/, /1–32 characters/] },
  { argv: rule('-j', 'DIVERT', '1', '--netns', 'a\tb'), exit: 2, says: [/Invalid network namespace "a\\tb"/] },
  { argv: ['rules', 'add', '-I', 'input', '0', '-j', 'DIVERT', '1'], exit: 2, says: [/Insert position 0/, /1–65535/] },
  { argv: rule('-j', 'DIVERT', '5:1'), exit: 2, says: [/reversed/, /write 1:5/] },
  { argv: ['rules', 'list', '--bogus'], exit: 2, says: [/unexpected "--bogus"/] },
  { argv: ['rules', 'list', '-4', '-6'], exit: 2, says: [/-4 and -6 exclude each other/] },
  { argv: ['rules', 'delete', 'divert:99'], exit: 1, says: [/no persistent DIVERT rule with ID divert:99/, /divert rules list/] },
  { argv: rule('-p', 'icmp', '-j', 'DIVERT', '1'), exit: 1, says: [/EPERM|not permitted/, /run as root/], setup: (k) => { k.capNetAdmin = false; } },
  { argv: ['filter', 'check'], exit: 2, says: [/check needs a filter/, /divert filter check 'tcp.DstPort == 80'/] },
  { argv: ['filter', 'check', 'tcp and'], exit: 2, says: [/Expected a test/, /offset 7/] },
  { argv: ['filter', 'check', 'ip.SrcAddr == 1.2.3'], exit: 2, says: [/"1.2.3" is not a number/, /an IPv4 or IPv6 address/] },
  { argv: ['filter', 'check', 'packet[99999] == 1'], exit: 2, says: [/Index out of bounds/, /0\.\.65534b/] },
  { argv: ['filter', 'test', 'tcp'], exit: 2, says: [/test needs a capture: -r FILE.pcap/] },
  { argv: ['filter', 'test', 'tcp', '-r', '/nonexistent-divert.pcap'], exit: 1, says: [/cannot read the pcap file "\/nonexistent-divert.pcap": ENOENT/, /check the name/] },
  { argv: ['filter', 'bogus', 'tcp'], exit: 2, says: [/unknown command "bogus"/, /use check, explain or test/] },
  { argv: ['doctor', '--bogus'], exit: 2, says: [/Unknown option '--bogus'/] },
  { argv: ['demo', '--bogus'], exit: 2, says: [/Unknown option '--bogus'/] },
];
