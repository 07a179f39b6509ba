import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOST_LITTLE_ENDIAN } from '../netlink/bytes.js';
import { NFPROTO, NFT_VERDICT } from './constants.js';
import { be16 } from './data.js';
import { NFT_META, NFT_PAYLOAD } from './expr_constants.js';
import { formatExpr, formatRule, verdictName } from './format.js';
import { encodeComment } from './udata.js';
import { DUMPED_RULES } from './testdata/kernel_dumps.js';

// Register words print in host order: the recorded texts are from a little-endian host.
const skip = !HOST_LITTLE_ENDIAN && 'recorded on a little-endian host';

for (const d of DUMPED_RULES) {
  test(`formatRule() prints a kernel dump as nft --debug=netlink does: ${d.text.split('\n')[1]?.trim()}`, { skip }, () => {
    assert.equal(formatRule(d.dumped), d.text);
  });
}

test('formatRule() prints a rule being added as nft --debug=netlink does, user data included', { skip }, () => {
  // nft 1.0.6: `nft --debug=netlink add rule inet t c meta l4proto tcp tcp dport 443 counter accept comment "hi"`
  const text = formatRule({
    family: NFPROTO.NFPROTO_INET,
    table: 't',
    chain: 'c',
    exprs: [
      { type: 'meta', key: NFT_META.NFT_META_L4PROTO, dreg: 1 },
      { type: 'cmp', op: 0, sreg: 1, data: Uint8Array.of(6) },
      { type: 'payload', base: NFT_PAYLOAD.NFT_PAYLOAD_TRANSPORT_HEADER, offset: 2, len: 2, dreg: 1 },
      { type: 'cmp', op: 0, sreg: 1, data: be16(443) },
      { type: 'counter' },
      { type: 'immediate', dreg: 0, data: { verdict: { code: NFT_VERDICT.NF_ACCEPT } } },
    ],
    userdata: encodeComment('hi'),
  });
  assert.equal(text, [
    'inet t c',
    '  [ meta load l4proto => reg 1 ]',
    '  [ cmp eq reg 1 0x00000006 ]',
    '  [ payload load 2b @ transport header + 2 => reg 1 ]',
    '  [ cmp eq reg 1 0x0000bb01 ]',
    '  [ counter pkts 0 bytes 0 ]',
    '  [ immediate reg 0 accept ]',
    '  userdata = { \\x00\\x03hi\\x00 }',
  ].join('\n'));
});

test('formatExpr() keeps libnftnl\'s quirks: ct id and meta keys past sdifname print "unknown"', () => {
  assert.equal(formatExpr({ type: 'ct', key: 23, dreg: 1 }), '[ ct load unknown => reg 1 ]');
  assert.equal(formatExpr({ type: 'meta', key: 35, dreg: 1 }), '[ meta load unknown => reg 1 ]');
  assert.equal(formatExpr({ type: 'unknown', name: 'reject', data: new Uint8Array(0) }), '[ reject ]');
});

test('formatExpr() prints data longer than a word as several zero-padded words', { skip }, () => {
  assert.equal(formatExpr({ type: 'cmp', op: 0, sreg: 1, data: Uint8Array.of(1, 2, 3, 4, 5) }), '[ cmp eq reg 1 0x04030201 0x00000005 ]');
});

test('verdictName() names every verdict libnftnl names', () => {
  assert.deepEqual(
    [1, 0, 2, 3, 4, 5, -1, -2, -3, -4, -5, 99].map(verdictName),
    ['accept', 'drop', 'stolen', 'queue', 'repeat', 'stop', 'continue', 'break', 'jump', 'goto', 'return', 'unknown'],
  );
});
