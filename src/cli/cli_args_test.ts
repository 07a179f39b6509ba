import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInterceptArgs } from './commands/intercept_args.js';
import { main } from './main.js';
import { collectingIo, UsageError } from './io.js';
import { reportError } from './report_error.js';
import { DivertError, FilterSyntaxError, FirewallError } from '../mod.js';

test('parseInterceptArgs() defaults: reinject, line output', () => {
  assert.deepEqual(parseInterceptArgs(['1234']), {
    port: 1234, lastPort: undefined, verdict: 'reinject', firewall: undefined, filter: undefined, priority: 0, passThrough: false,
    defragment: false, netns: undefined, count: undefined, write: undefined, format: 'line', hex: false, sniff: false,
  });
});

test('parseInterceptArgs() --sniff: no verdict options, no pass-through', () => {
  const o = parseInterceptArgs(['7', '--sniff', '--firewall', '-A input -p udp', '-w', 'x.pcap']);
  assert.ok(o !== 'help');
  assert.deepEqual([o.sniff, o.port, o.firewall, o.format], [true, 7, '-A input -p udp', 'none']);
  assert.throws(() => parseInterceptArgs(['7', '--sniff', '--drop']), /--sniff gives no verdicts \(the packets go on at once\): leave out --drop/);
  assert.throws(() => parseInterceptArgs(['7', '--sniff', '--reinject']), /leave out --reinject/);
  assert.throws(() => parseInterceptArgs(['7', '--sniff', '--firewall', '-A input', '--pass-through']), /nothing to pass through/);
});

test('parseInterceptArgs() takes a --firewall value that starts with "-"', () => {
  const o = parseInterceptArgs(['--firewall', '-A input -p icmp', '7', '--drop', '-c', '3', '--json', '-x', '--netns', 'lab', '--pass-through', '--defragment']);
  assert.ok(o !== 'help');
  assert.equal(o.firewall, '-A input -p icmp');
  assert.equal(o.port, 7);
  assert.equal(o.verdict, 'drop');
  assert.equal(o.count, 3);
  assert.equal(o.format, 'json');
  assert.equal(o.hex, true);
  assert.equal(o.netns, 'lab');
  assert.equal(o.passThrough, true);
  assert.equal(o.defragment, true);
  const eq = parseInterceptArgs(['--firewall=-A output -p udp', '1', '--classic']);
  assert.ok(eq !== 'help');
  assert.equal(eq.firewall, '-A output -p udp');
  assert.equal(eq.format, 'classic');
});

test('parseInterceptArgs() with -w and no format prints nothing per packet, like tcpdump', () => {
  const o = parseInterceptArgs(['1', '-w', 'x.pcap']);
  assert.ok(o !== 'help');
  assert.equal(o.format, 'none');
  assert.equal(o.write, 'x.pcap');
});

test('parseInterceptArgs() refuses bad command lines with a UsageError', () => {
  for (const argv of [[], ['x'], ['70000'], ['1', '2'], ['1', '--drop', '--reinject'], ['1', '--json', '--classic'], ['1', '-c', '0'],
    ['1', '--firewall'], ['1', '--firewall', '-A input -j DIVERT 1'], ['1', '--pass-through'], ['1', '--netns', 'no such/ns'], ['1', '--netns', '']]) {
    assert.throws(() => parseInterceptArgs(argv), UsageError, argv.join(' '));
  }
  assert.throws(() => parseInterceptArgs(['1', '--bogus']), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
  assert.equal(parseInterceptArgs(['--help']), 'help');
});

test('reportError() exit codes: 2 for usage mistakes, 1 for runtime failures', () => {
  const io = collectingIo();
  assert.equal(reportError('divert x', new UsageError('bad'), io), 2);
  assert.equal(reportError('divert x', new FilterSyntaxError('Unknown chain', '-A foo', 3), io), 2);
  assert.equal(reportError('divert x', new RangeError('port out of range'), io), 2);
  assert.equal(reportError('divert x', new DivertError('Cannot bind queue 7', 'EPERM'), io), 1);
  assert.equal(reportError('divert x', new FirewallError('nf_tables refused NFT_MSG_NEWTABLE for table inet divert: EPERM', { messageType: 'NFT_MSG_NEWTABLE', errno: 1 }, 'EPERM'), io), 1);
  assert.equal(reportError('divert x', new FirewallError('nf_tables refused NFT_MSG_NEWRULE: ENOENT', { messageType: 'NFT_MSG_NEWRULE', errno: 2 }, 'ENOENT'), io), 1);
  assert.equal(reportError('divert x', new Error('boom\nsecond line'), io, {}), 1);
  const bug = collectingIo();
  assert.equal(reportError('divert x', new TypeError("Cannot read properties of undefined (reading 'x')"), bug, {}), 1, 'a TypeError in the CLI is a bug, not a usage mistake');
  assert.match(bug.err.join(''), /DIVERT_DEBUG=1/);
  assert.deepEqual(io.err, [
    'divert x: bad (see "divert x --help")\n',
    'divert x: Unknown chain at offset 3: "-A foo" (see "divert x --help")\n',
    'divert x: port out of range (see "divert x --help")\n',
    'divert x: Cannot bind queue 7 (hint: run as root (sudo), or inside "unshare --user --map-root-user --net"; "divert doctor" checks this)\n',
    'divert x: nf_tables refused NFT_MSG_NEWTABLE for table inet divert: EPERM (hint: run as root (sudo), or inside "unshare --user --map-root-user --net"; "divert doctor" checks this)\n',
    'divert x: nf_tables refused NFT_MSG_NEWRULE: ENOENT (hint: "divert doctor" checks what this kernel supports)\n',
    'divert x: boom (run with DIVERT_DEBUG=1 for details)\n',
  ]);
  for (const line of io.err) assert.doesNotMatch(line, /\n.+/, 'one line, no stack');
});

test('reportError() prints the stack with DIVERT_DEBUG=1', () => {
  const io = collectingIo();
  reportError('divert x', new Error('boom'), io, { DIVERT_DEBUG: '1' });
  assert.match(io.err.join(''), /at /);
});

test('main() --version, --help, unknown command and usage exit codes', async () => {
  const v = collectingIo();
  assert.equal(await main(['--version'], v), 0);
  assert.match(v.out.join(''), /^divert \d+\.\d+\.\d+\n$/);
  const h = collectingIo();
  assert.equal(await main(['--help'], h), 0);
  assert.match(h.out.join(''), /intercept \[port\]/);
  assert.match(h.out.join(''), /filter <op>/);
  const none = collectingIo();
  assert.equal(await main([], none), 2);
  assert.match(none.err.join(''), /Usage: divert/);
  const bad = collectingIo();
  assert.equal(await main(['frobnicate'], bad), 2);
  assert.equal(bad.err.length, 1);
  for (const cmd of ['intercept', 'rules', 'demo', 'doctor']) {
    const io = collectingIo();
    assert.equal(await main([cmd, '--help'], io), 0, cmd);
    assert.match(io.out.join(''), /Usage: divert/, cmd);
  }
  const usage = collectingIo();
  assert.equal(await main(['intercept', 'notaport'], usage), 2);
  assert.match(usage.err.join(''), /^divert intercept: port must be a number/);
});

test('parseInterceptArgs() <port>:<last>: a range of ports (one worker thread each); refused with --sniff, --classic, backwards or over 64 ports', () => {
  const o = parseInterceptArgs(['10:13', '--firewall', '-A input -p udp']);
  assert.ok(o !== 'help');
  assert.deepEqual([o.port, o.lastPort, o.firewall], [10, 13, '-A input -p udp']);
  assert.throws(() => parseInterceptArgs(['10:13', '--sniff']), /--sniff takes one port/);
  assert.throws(() => parseInterceptArgs(['10:13', '--classic']), /--classic prints the seed's own loop/);
  assert.throws(() => parseInterceptArgs(['13:10']), /first < last and at most 64 ports/);
  assert.throws(() => parseInterceptArgs(['0:64']), /at most 64 ports/);
});
