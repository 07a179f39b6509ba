/**
 * nftables detection against this kernel: the native `queue` statement is refused
 * (CONFIG_NFT_QUEUE unset), so detection must say so, and the text we generate must parse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNetns, requirePrivilege } from '../_harness/netns.js';
import type { Netns } from '../_harness/netns.js';
import { detectBackend, nftRuleText, nftTableText, parseRule } from '../../src/firewall/mod.js';

/** `nft -c -f -` (check only, nothing committed) with `text` on stdin. */
function nftCheck(ns: Netns, text: string): { ok: boolean; stderr: string } {
  try {
    ns.exec('nft', ['-c', '-f', '-'], text);
    return { ok: true, stderr: '' };
  } catch (err) {
    return { ok: false, stderr: (err as Error).message };
  }
}

test('detectBackend() in a namespace reports the iptables flavour and nft queue support', async (t) => {
  if (!requirePrivilege(t)) return;
  const ns = createNetns();
  const info = await detectBackend({ netns: ns.name });
  const v = ns.exec('iptables', ['-V']).trim();
  assert.equal(info.version, v);
  assert.equal(info.flavour, v.includes('(nf_tables)') ? 'nf_tables' : 'legacy');
  const direct = nftCheck(ns, 'table inet dvt_q {\n chain c { type filter hook output priority 0; queue to 1; }\n}\n');
  assert.equal(info.nftQueue, direct.ok, 'detection agrees with a direct nft -c of a queue rule');
  assert.equal(info.name, 'iptables', 'iptables is complete on its own and selected');
});

test('nftRuleText() output parses with nft -c; only the queue statement may be refused', async (t) => {
  if (!requirePrivilege(t)) return;
  const ns = createNetns();
  const rules = [
    '-A input -p ICMP -j DIVERT 1234',
    '-A output -p TCP -s 198.18.0.1 -d ! 198.19.0.0/16 1024:65535 -o veth+ -j DIVERT 4321:4323 --pass-through',
    '-A local-in -6 -p icmpv6 --icmp-type 128/0 -i ! lo -j DIVERT 3',
  ].map((r) => nftRuleText(parseRule(r), 'divert:owner=cli'));
  const info = await detectBackend({ netns: ns.name });
  const withQueue = `${nftTableText()}${rules.join('\n')}\n`;
  const r = nftCheck(ns, withQueue);
  if (info.nftQueue) {
    assert.equal(r.ok, true, r.stderr);
  } else {
    assert.equal(r.ok, false);
    const errors = r.stderr.split('\n').filter((l) => /Error:/.test(l));
    assert.ok(errors.length > 0 && errors.every((l) => /No such file or directory/.test(l)), r.stderr);
    assert.ok(r.stderr.split('\n').filter((l) => /^\s*\^+\s*$/.test(l)).length > 0, 'nft points at the refused statement');
  }
  const noQueue = withQueue.replace(/queue (flags bypass )?to [\d-]+/g, 'accept');
  const ok = nftCheck(ns, noQueue);
  assert.equal(ok.ok, true, `matches must be valid nft: ${ok.stderr}`);
});
