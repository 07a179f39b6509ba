import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FilterSyntaxError } from '../errors.js';
import { parseFilter } from './check.js';
import { formatFilter } from './format.js';
import { MAX_FILTER_LENGTH } from './lexer.js';

/** Parsing `filter` fails with a reason matching `reason`, at `offset`, with the caret under it. */
function refuses(filter: string, reason: RegExp, offset: number): FilterSyntaxError {
  let err: unknown;
  try {
    parseFilter(filter);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof FilterSyntaxError, `${JSON.stringify(filter)} parsed (or threw ${String(err)})`);
  assert.match(err.reason, reason);
  assert.equal(err.offset, offset, `offset of ${JSON.stringify(filter)}: ${err.reason}`);
  assert.equal(err.code, 'ERR_DIVERT_FILTER_SYNTAX');
  assert.equal(err.filter, filter);
  const first = err.message.split('\n')[0]!;
  assert.equal(first, `${err.reason} at offset ${offset}: ${JSON.stringify(filter)}`);
  // The caret sits under the offending character of its line.
  const [line, caret] = err.caret.split('\n');
  assert.equal(caret!.indexOf('^') - 2, err.column - 1);
  assert.equal(line, `  ${filter.split('\n')[err.line - 1]}`);
  assert.equal(err.message.split('\n').slice(1).join('\n'), err.caret);
  return err;
}

test('FilterSyntaxError shows the filter with a caret under the offending character', () => {
  const e = refuses('outbound and tcp.dstport == 80', /^Unknown field "tcp.dstport" \(did you mean tcp.DstPort\? names are case-sensitive\)$/, 13);
  assert.equal(e.caret, '  outbound and tcp.dstport == 80\n               ^');
  assert.equal(e.line, 1);
  assert.equal(e.column, 14);
  assert.deepEqual(e.expected, ['a field']);
});

test('FilterSyntaxError on the second line of a filter: line, column and caret of that line', () => {
  const e = refuses('outbound and\n\ttcp.Foo == 1', /Unknown field "tcp.Foo"/, 14);
  assert.equal(e.line, 2);
  assert.equal(e.column, 2);
  assert.equal(e.caret, '  \ttcp.Foo == 1\n  \t^');
});

test('FilterSyntaxError keeps the (message, filter, offset) constructor of the rule parser', () => {
  const e = new FilterSyntaxError('Unknown chain', '-A foo', 3);
  assert.equal(e.message.split('\n')[0], 'Unknown chain at offset 3: "-A foo"');
  assert.equal(e.caret, '  -A foo\n     ^');
  assert.deepEqual(e.expected, []);
  assert.ok(e instanceof SyntaxError);
});

test('parseFilter() refuses characters that are no token', () => {
  refuses('tcp # udp', /^Unexpected character "#"$/, 4);
  refuses('"tcp"', /^Unexpected character " \(strings are not part of the language\)$/, 0);
  refuses('tcp & udp', /^A single '&' is not an operator: write '&&' or 'and'$/, 4);
  refuses('tcp | udp', /^A single '\|' is not an operator: write '\|\|' or 'or'$/, 4);
});

test('parseFilter() refuses malformed numbers and addresses', () => {
  refuses('tcp.DstPort == 12ab', /^"12ab" is not a number \(decimal, 0x hex, an IPv4 or IPv6 address\)$/, 15);
  refuses('ip.DstAddr == 1.2.3.456', /^"1.2.3.456" is not a valid IPv4 address$/, 14);
  refuses('ipv6.DstAddr == ::1::2', /^"::1::2" is not a valid IPv6 address$/, 16);
  refuses(`ipv6.DstAddr == 0x1${'0'.repeat(32)}`, /does not fit in 128 bits$/, 16);
  refuses('ip.DstAddr == -10.0.0.1', /^An address cannot be negative$/, 14);
  refuses('tcp.DstPort == 8.0', /is not a number/, 15);
});

test('parseFilter() refuses unknown fields, with a hint when only the case is wrong', () => {
  refuses('foo.Bar', /^Unknown field "foo.Bar"$/, 0);
  refuses('ip.srcaddr == 1', /did you mean ip.SrcAddr\?/, 0);
  refuses('tcp and TCP', /^TCP is a value, not a field: compare a field with it \(protocol == TCP\)$/, 8);
  refuses('TRUE', /^TRUE is a value, not a test: the test is written true$/, 0);
});

test('parseFilter() refuses the fields of WinDivert\'s other layers, saying why they mean nothing on Linux', () => {
  refuses('processId == 4', /^processId has no meaning on Linux/, 0);
  refuses('tcp and endpointId == 1', /^endpointId has no meaning on Linux/, 8);
  refuses('parentEndpointId', /^parentEndpointId has no meaning on Linux/, 0);
  refuses('layer == NETWORK', /^layer has no meaning on Linux/, 0);
  refuses('priority > 0', /^priority has no meaning in a filter on Linux/, 0);
  refuses('event == ESTABLISHED', /^ESTABLISHED is an event of WinDivert's flow, socket or reflect layer/, 9);
  refuses('event == -CLOSE', /^CLOSE is an event/, 10);
});

test('parseFilter() refuses an unknown value macro', () => {
  refuses('protocol == SCTP', /^Unknown value "SCTP"; macros are TRUE, FALSE, TCP, UDP, ICMP, ICMPV6, PACKET$/, 12);
});

test('parseFilter() refuses a missing or misplaced test', () => {
  refuses('', /^Expected a test, but the filter ends here$/, 0);
  refuses('   ', /^Expected a test, but the filter ends here$/, 3);
  refuses('and tcp', /^Expected a test, found "and"$/, 0);
  refuses('tcp and', /^Expected a test, but the filter ends here$/, 7);
  refuses('tcp or or udp', /^Expected a test, found "or"$/, 7);
  refuses('()', /^Expected a test, found "\)"$/, 1);
  refuses('80 == tcp.DstPort', /^Expected a test \(a field comes first: tcp.DstPort == 80\), found "80"$/, 0);
});

test('parseFilter() refuses a comparison without a value', () => {
  refuses('tcp.DstPort ==', /^Expected a value \(a number, an address or a macro such as TCP\), but the filter ends here$/, 14);
  refuses('tcp.DstPort == udp.DstPort', /^Expected a value .*, found "udp.DstPort"$/, 15);
  refuses('tcp.DstPort == == 80', /^Expected a value .*, found "=="$/, 15);
  refuses('tcp.DstPort == true', /^Expected a value .*, found "true"$/, 15);
});

test('parseFilter() refuses unbalanced parentheses and text after the filter', () => {
  refuses('(tcp or udp', /^Expected '\)' or '\?', but the filter ends here$/, 11);
  refuses('tcp)', /^Unbalanced '\)': no '\(' is open here$/, 3);
  refuses('tcp udp', /^Expected 'and', 'or' or the end of the filter, found "udp"$/, 4);
  refuses('tcp.DstPort == 80 80', /^Expected 'and', 'or' or the end of the filter, found "80"$/, 18);
});

test('parseFilter() refuses a ternary outside parentheses or without its colon', () => {
  refuses('tcp ? udp : icmp', /^A ternary must be in parentheses: \( cond \? then : else \)$/, 4);
  refuses('(tcp ? udp)', /^Expected ':' \(the ternary is \( cond \? then : else \)\), found "\)"$/, 10);
  refuses('(tcp ? udp : icmp', /^Expected '\)' to end the ternary, but the filter ends here$/, 17);
});

test('parseFilter() refuses not before parentheses, as WinDivert does', () => {
  refuses('not (tcp or udp)', /^'not' applies to a single test in WinDivert's language/, 0);
  refuses('tcp and !(udp)', /^'not' applies to a single test/, 8);
});

test('parseFilter() refuses array fields without an index and indices elsewhere', () => {
  refuses('packet == 5', /^packet needs an index: packet\[0\], packet\[-1\] \(from the end\) or packet\[4b\] \(a byte offset\)$/, 6);
  refuses('tcp.DstPort[1] == 80', /^tcp.DstPort takes no index/, 11);
  refuses('packet[x] == 1', /^Expected an index: a decimal number, optionally negative or with the b \(bytes\) suffix, found "x"$/, 7);
  refuses('packet[0x10] == 1', /^Expected an index/, 7);
  refuses('packet[1 == 1', /^Expected '\]', found "=="$/, 9);
});

test('parseFilter() refuses the b (bytes) suffix on a value: WinDivert 2.2 takes it in an index only, with the caret at the b', () => {
  const e = refuses('tcp.DstPort == 80b', /^The b \(bytes\) suffix belongs to an index, as in packet\[80b\]; a value is a plain number: 80$/, 17);
  assert.equal(e.caret, '  tcp.DstPort == 80b\n                   ^');
  refuses('packet[2b] == 0b', /^The b \(bytes\) suffix belongs to an index/, 15);
  refuses('(tcp ? tcp.SrcPort != 443b : udp)', /^The b \(bytes\) suffix belongs to an index/, 25);
  refuses('ip.TTL < -1b', /^The b \(bytes\) suffix belongs to an index/, 11);
  assert.equal(formatFilter('packet[55b] == 0x0b and tcp.DstPort == 0xb'), 'packet[55b] == 0xb and tcp.DstPort == 0xb', 'b is a hex digit after 0x');
});

test('parseFilter() refuses indices out of WinDivert\'s bounds', () => {
  refuses('packet[70000] == 1', /^Index out of bounds: packet\[70000\] names byte 70000; the byte offset must be in 0..65534b$/, 6);
  refuses('packet32[16384] == 1', /names byte 65536; the byte offset must be in 0..65531b$/, 8);
  refuses('packet32[-2b] == 1', /^Index out of bounds: packet32\[-2b\] names byte -2; the byte offset must be in -4b..-65535b$/, 8);
  refuses('packet[-0] == 1', /names byte -0/, 6);
  refuses('tcp.Payload16[-32768] == 1', /names byte -65536/, 13);
});

test('parseFilter() refuses filters nested too deeply or too long', () => {
  refuses(`${'('.repeat(500)}tcp${')'.repeat(500)}`, /^The filter nests deeper than 400 levels$/, 400);
  refuses('tcp or '.repeat(10_000), /^The filter is 70000 characters long; at most 65536 are accepted$/, MAX_FILTER_LENGTH);
});

test('parseFilter() accepts WinDivert\'s spellings: = for ==, && || !, repeated not, no spaces, trailing colons', () => {
  const same = (a: string, b: string): void => assert.equal(formatFilter(a), formatFilter(b), a);
  same('tcp.DstPort = 80', 'tcp.DstPort == 80');
  same('tcp && !udp || icmp', 'tcp and not udp or icmp');
  same('not not tcp', 'tcp');
  same('!!!tcp', 'not tcp');
  same('(tcp?udp:icmp)', '(tcp ? udp : icmp)');
  same('(tcp? tcp.DstPort == 80: true)', '(tcp ? tcp.DstPort == 80 : true)');
  same('(ipv6? ipv6.SrcAddr == ::1: false)', '(ipv6 ? ipv6.SrcAddr == ::1 : false)');
  same('(tcp?tcp.DstPort==0x50:udp.DstPort==53)', '(tcp ? tcp.DstPort == 80 : udp.DstPort == 53)'.replace('80', '0x50'));
  same('ip.SrcAddr == ::ffff:10.0.0.1', 'ip.SrcAddr == 10.0.0.1');
  same('ip.SrcAddr == 0xFFFF0A000001', 'ip.SrcAddr == 10.0.0.1');
  same('packet[55b] == 0x1b', 'packet[55b] == 0x1b');
  same('\ttcp\n\tand\r\n udp', 'tcp and udp');
  same('timestamp > -0x8000000000000000', 'timestamp > -0x8000000000000000');
  assert.equal(parseFilter(`${'('.repeat(300)}tcp${')'.repeat(300)}`).root.kind, 'test');
});

test('parseFilter() keeps offsets of every node', () => {
  const ast = parseFilter('outbound and (tcp.DstPort == 80 or udp)');
  assert.equal(ast.root.kind, 'and');
  if (ast.root.kind !== 'and') return;
  const [a, b] = ast.root.args;
  assert.deepEqual([a!.offset, a!.end], [0, 8]);
  assert.equal(b!.kind, 'or');
  if (b!.kind !== 'or') return;
  const t = b!.args[0]!;
  assert.equal(t.kind, 'test');
  if (t.kind !== 'test') return;
  assert.deepEqual([t.offset, t.end, t.fieldOffset, t.value?.offset, t.value?.value], [14, 31, 14, 29, 80n]);
});

test('parseFilter() throws only FilterSyntaxError on arbitrary text', () => {
  const alphabet = ['tcp', 'udp', '.', 'DstPort', '(', ')', '?', ':', '!', 'not', 'and', '||', '==', '<', '-', '[', ']', '1', 'b', '0x', '::', 'packet', ' ', 'TCP', '='];
  let state = 1;
  const next = (): number => (state = (state * 1103515245 + 12345) >>> 0);
  for (let i = 0; i < 3000; i++) {
    const text = Array.from({ length: next() % 12 }, () => alphabet[next() % alphabet.length]).join(next() % 2 ? ' ' : '');
    try {
      parseFilter(text);
    } catch (e) {
      assert.ok(e instanceof FilterSyntaxError, `${JSON.stringify(text)}: ${String(e)}`);
    }
  }
});

test('parseFilter() takes strings only', () => {
  assert.throws(() => parseFilter(42 as unknown as string), TypeError);
});
