import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nftRuleText, nftTableText, probeNftQueue } from './nftables.js';
import { parseRule } from './parse.js';
import { RecordingRunner } from './recording.js';
import { drive } from './runner.js';

const TAG = 'divert:owner=cli';
const TAIL = 'meta mark & 0x40000000 != 0x40000000 counter name "in_use" counter';

test('nftTableText() declares one base chain per hook at priority mangle', () => {
  const text = nftTableText();
  assert.match(text, /^table inet divert \{\n/);
  for (const h of ['prerouting', 'input', 'forward', 'postrouting']) assert.match(text, new RegExp(`chain ${h} \\{\\n\\t\\ttype filter hook ${h} priority mangle; policy accept;`));
  assert.match(text, /type route hook output priority mangle;/);
  assert.match(text, /^\tcounter in_use \{\n\t\}\n/m, 'the guard counter that keeps tidy from deleting a table in use');
});

const CASES: ReadonlyArray<readonly [string, string]> = [
  ['-A input -p ICMP -j DIVERT 1234', `add rule inet divert prerouting meta nfproto ipv4 meta l4proto icmp ${TAIL} queue to 1234 comment "${TAG}"`],
  ['-A output -p TCP -s 198.18.0.1 -j DIVERT 4321', `add rule inet divert postrouting meta nfproto ipv4 ip saddr 198.18.0.1 meta l4proto tcp ${TAIL} queue to 4321 comment "${TAG}"`],
  ['-A forward -6 ! -d 2001:db8::/32 -i veth+ -p udp ! --dport 53 -j DIVERT 2:4 --pass-through', `add rule inet divert forward meta nfproto ipv6 ip6 daddr != 2001:db8::/32 iifname "veth*" meta l4proto udp udp dport != 53 ${TAIL} queue flags bypass to 2-4 comment "${TAG}"`],
  ['-A local-in -6 -p icmpv6 --icmp-type 128/0 -j DIVERT 3', `add rule inet divert input meta nfproto ipv6 meta l4proto ipv6-icmp icmpv6 type 128 icmpv6 code 0 ${TAIL} queue to 3 comment "${TAG}"`],
];

for (const [text, nft] of CASES) {
  test(`nftRuleText() of ${JSON.stringify(text)}`, () => assert.equal(nftRuleText(parseRule(text), TAG), nft));
}

test('probeNftQueue() checks a throwaway table with nft -c and reads a refusal as false', async () => {
  const refuse = new RecordingRunner(() => ({ fail: 'Error: Could not process rule: No such file or directory' }));
  assert.equal(await drive(probeNftQueue(), refuse), false);
  assert.match(refuse.inputs[0] ?? '', /table inet divert_probe[\s\S]*add rule inet divert_probe output queue flags bypass to 0\n$/);
  assert.equal(await drive(probeNftQueue(), new RecordingRunner()), true);
});
