import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NFT_SET, NFT_SET_ELEM } from '../nftables/constants.js';
import { formatExprs } from '../nftables/format.js';
import { compileFilter } from './evaluate.js';
import { lowerCounted, lowerFilter, MAX_RULE_EXPRS, type LoweredFilter, type LowerStats } from './lower_nft.js';
import { MAX_INTERVAL_SET_BYTES } from './_emit.js';
import { simulate, type SimMeta } from './_nft_sim.js';
import { ipv6, udp } from './testdata/_build.js';
import { CASES } from './testdata/cases.js';

const rules = (filter: string): string[] => lowerFilter(filter).rules.map((r) => `${r.hook} ${r.family} ${r.residual ? 'residual' : 'exact'}\n${formatExprs(r.exprs)}`);

test('lowerFilter(): outbound and tcp.DstPort == 80, golden (nft --debug=netlink notation)', () => {
  const l = lowerFilter('outbound and tcp.DstPort == 80');
  assert.equal(l.explain(), `filter: outbound and tcp.DstPort == 80
rule 0 postrouting ipv4 exact
  [ meta load nfproto => reg 1 ]
  [ cmp eq reg 1 0x00000002 ]
  [ meta load iif => reg 1 ]
  [ cmp eq reg 1 0x00000000 ]
  [ meta load l4proto => reg 1 ]
  [ cmp eq reg 1 0x00000006 ]
  [ payload load 2b @ network header + 6 => reg 1 ]
  [ bitwise reg 1 = ( reg 1 & 0x0000ff1f ) ^ 0x00000000 ]
  [ cmp eq reg 1 0x00000000 ]
  [ payload load 2b @ transport header + 2 => reg 1 ]
  [ cmp eq reg 1 0x00005000 ]
  [ payload load 8b @ transport header + 12 => reg 1 ]
  [ bitwise reg 1 = ( reg 1 & 0x000000f0 0x00000000 ) ^ 0x00000000 0x00000000 ]
  [ cmp gte reg 1 0x00000050 0x00000000 ]
rule 1 postrouting ipv6 exact
  [ meta load nfproto => reg 1 ]
  [ cmp eq reg 1 0x0000000a ]
  [ meta load iif => reg 1 ]
  [ cmp eq reg 1 0x00000000 ]
  [ payload load 1b @ network header + 6 => reg 1 ]
  [ cmp eq reg 1 0x00000006 ]
  [ payload load 2b @ transport header + 2 => reg 1 ]
  [ cmp eq reg 1 0x00005000 ]
  [ payload load 8b @ transport header + 12 => reg 1 ]
  [ bitwise reg 1 = ( reg 1 & 0x000000f0 0x00000000 ) ^ 0x00000000 0x00000000 ]
  [ cmp gte reg 1 0x00000050 0x00000000 ]
rule 2 postrouting ipv6 exact
  [ meta load nfproto => reg 1 ]
  [ cmp eq reg 1 0x0000000a ]
  [ meta load iif => reg 1 ]
  [ cmp eq reg 1 0x00000000 ]
  [ payload load 2b @ network header + 4 => reg 1 ]
  [ cmp gte reg 1 0x00000800 ]
  [ payload load 1b @ network header + 6 => reg 1 ]
  [ cmp eq reg 1 0x0000002c ]
  [ payload load 1b @ network header + 40 => reg 1 ]
  [ cmp eq reg 1 0x00000006 ]
  [ payload load 2b @ network header + 42 => reg 1 ]
  [ bitwise reg 1 = ( reg 1 & 0x0000f8ff ) ^ 0x00000000 ]
  [ cmp eq reg 1 0x00000000 ]
  [ payload load 2b @ transport header + 2 => reg 1 ]
  [ cmp eq reg 1 0x00005000 ]
  [ payload load 8b @ transport header + 12 => reg 1 ]
  [ bitwise reg 1 = ( reg 1 & 0x000000f0 0x00000000 ) ^ 0x00000000 0x00000000 ]
  [ cmp gte reg 1 0x00000050 0x00000000 ]
rule 3 postrouting ipv6 residual
  [ meta load nfproto => reg 1 ]
  [ cmp eq reg 1 0x0000000a ]
  [ meta load iif => reg 1 ]
  [ cmp eq reg 1 0x00000000 ]
  [ payload load 1b @ network header + 6 => reg 1 ]
  [ lookup reg 1 set filter3_0 ]
  # IPv6 extension headers: nf_tables walks them unlike WinDivert, user space decides
rule 4 postrouting ipv6 residual
  [ meta load nfproto => reg 1 ]
  [ cmp eq reg 1 0x0000000a ]
  [ meta load iif => reg 1 ]
  [ cmp eq reg 1 0x00000000 ]
  [ payload load 1b @ network header + 6 => reg 1 ]
  [ cmp eq reg 1 0x0000002c ]
  [ payload load 1b @ network header + 40 => reg 1 ]
  [ lookup reg 1 set filter4_0 ]
  # IPv6 extension headers: nf_tables walks them unlike WinDivert, user space decides
rule 5 postrouting ipv6 residual
  [ meta load nfproto => reg 1 ]
  [ cmp eq reg 1 0x0000000a ]
  [ meta load iif => reg 1 ]
  [ cmp eq reg 1 0x00000000 ]
  [ payload load 2b @ network header + 4 => reg 1 ]
  [ cmp lte reg 1 0x00000700 ]
  [ payload load 1b @ network header + 6 => reg 1 ]
  [ cmp eq reg 1 0x0000002c ]
  # IPv6 extension headers: nf_tables walks them unlike WinDivert, user space decides
set filter3_0 { 0x00, 0x2b, 0x33, 0x3c, 0x87 }
set filter4_0 { 0x00, 0x2b, 0x2c, 0x33, 0x3c, 0x87 }
residue: user space evaluates the packets rules 3, 4, 5 queue, and accepts the non-matching ones at once:
  - IPv6 extension headers: nf_tables walks them unlike WinDivert, user space decides`);
  assert.deepEqual(l.hooks, ['postrouting']);
  assert.equal(l.residual, true);
});

test('lowerFilter(): inbound and ifIdx == 3 and impostor is exact at prerouting only', () => {
  assert.deepEqual(rules('inbound and ifIdx == 3 and impostor'), [
    `prerouting ipv4 exact
  [ meta load nfproto => reg 1 ]
  [ cmp eq reg 1 0x00000002 ]
  [ meta load iif => reg 1 ]
  [ cmp eq reg 1 0x00000003 ]
  [ meta load iiftype => reg 1 ]
  [ cmp neq reg 1 0x00000304 ]
  [ meta load l4proto => reg 1 ]
  [ meta load mark => reg 1 ]
  [ bitwise reg 1 = ( reg 1 & 0x40000000 ) ^ 0x00000000 ]
  [ cmp eq reg 1 0x40000000 ]`,
    `prerouting ipv6 exact
  [ meta load nfproto => reg 1 ]
  [ cmp eq reg 1 0x0000000a ]
  [ meta load iif => reg 1 ]
  [ cmp eq reg 1 0x00000003 ]
  [ meta load iiftype => reg 1 ]
  [ cmp neq reg 1 0x00000304 ]
  [ meta load mark => reg 1 ]
  [ bitwise reg 1 = ( reg 1 & 0x40000000 ) ^ 0x00000000 ]
  [ cmp eq reg 1 0x40000000 ]`,
  ]);
});

test('lowerFilter(): each packet is diverted once: prerouting skips loopback devices, postrouting skips forwarded packets', () => {
  const l = lowerFilter('true');
  assert.deepEqual(l.rules.map((r) => [r.hook, r.family, r.residual]), [
    ['prerouting', 'ipv4', false], ['prerouting', 'ipv6', false], ['postrouting', 'ipv4', false], ['postrouting', 'ipv6', false],
  ]);
  for (const r of l.rules) {
    const text = formatExprs(r.exprs);
    if (r.hook === 'prerouting') assert.match(text, /meta load iiftype => reg 1 \]\n {2}\[ cmp neq reg 1 0x00000304 \]/);
    else assert.match(text, /meta load iif => reg 1 \]\n {2}\[ cmp eq reg 1 0x00000000 \]/);
  }
  assert.deepEqual(lowerFilter('loopback').hooks, ['postrouting'], 'loopback packets are taken when they leave');
  assert.deepEqual(lowerFilter('inbound and loopback').rules, []);
});

test('lowerFilter(): false and contradictions give no rules', () => {
  for (const f of ['false', 'tcp and udp', 'ip and ipv6', 'inbound and outbound', 'tcp.DstPort == 80 and tcp.DstPort == 443', 'icmp and ipv6', 'ip.TTL > 300']) {
    assert.deepEqual(lowerFilter(f).rules, [], f);
  }
});

test('lowerFilter(): or over one field becomes a set lookup; the set comes with the rule', () => {
  const l = lowerFilter('outbound and (tcp.DstPort == 80 or tcp.DstPort == 443 or tcp.DstPort == 8080)', { table: 'divert-7', setPrefix: 'f9_' });
  const v4 = l.rules[0]!;
  assert.equal(v4.residual, false);
  assert.deepEqual(v4.sets, ['f9_0_0']);
  assert.match(formatExprs(v4.exprs), /payload load 2b @ transport header \+ 2 => reg 1 \]\n {2}\[ lookup reg 1 set f9_0_0 \]/);
  const set = l.sets.find((s) => s.set.name === 'f9_0_0')!;
  assert.deepEqual(set.set, { family: 1, table: 'divert-7', name: 'f9_0_0', flags: NFT_SET.NFT_SET_ANONYMOUS | NFT_SET.NFT_SET_CONSTANT, keyLen: 2 });
  assert.deepEqual(set.elements.map((e) => [...e.key]), [[0, 80], [1, 187], [0x1f, 0x90]]);
});

test('lowerFilter(): ranges become cmp/range, many values an inverted lookup', () => {
  assert.match(rules('udp.DstPort >= 1024 and udp.DstPort <= 2048')[0]!, /\[ range eq reg 1 0x00000004 0x00000008 \]/);
  assert.match(rules('udp.DstPort < 1024')[0]!, /\[ cmp lte reg 1 0x0000ff03 \]/);
  assert.match(rules('udp.DstPort != 53 and udp.DstPort != 67')[0]!, /\[ cmp neq reg 1 0x00003500 \]\n {2}\[ cmp neq reg 1 0x00004300 \]/);
  assert.match(rules('ip.SrcAddr >= 198.18.0.0 and ip.SrcAddr <= 198.19.255.255')[0]!, /payload load 4b @ network header \+ 12 => reg 1 \]\n {2}\[ range eq reg 1 0x000012c6 0xffff13c6 \]/);
});

test('lowerFilter(): ifIdx needs equality in the kernel: small sets are looked up, wide ranges go to user space', () => {
  const small = lowerFilter('ifIdx < 3');
  assert.equal(small.rules.every((r) => !r.residual), true);
  assert.deepEqual(small.sets[0]!.elements.map((e) => [...e.key]), [[0, 0, 0, 0], [1, 0, 0, 0], [2, 0, 0, 0]]);
  const wide = lowerFilter('ifIdx > 100000');
  assert.equal(wide.rules.every((r) => r.residual), true);
  assert.match(wide.rules[0]!.reasons[0]!, /only equality is possible in the kernel/);
});

test('lowerFilter(): what the kernel cannot decide goes to user space, and explain() says why', () => {
  for (const [f, why] of [
    ['random8 < 128', /random8 hashes the packet/],
    ['timestamp > 0', /timestamp is decided in user space/],
    ['packet[-1] == 0x0a', /counts from the end/],
    ['tcp.Payload[-1] == 0x0a', /counts from the end/],
  ] as const) {
    const l = lowerFilter(f);
    assert.ok(l.rules.length > 0 && l.rules.every((r) => r.residual), f);
    assert.match(l.explain(), why);
  }
  assert.deepEqual(lowerFilter('random8 > 255').rules, [], 'a value out of range decides the test');
  assert.equal(lowerFilter('random8 <= 255').rules.every((r) => !r.residual), true);
});

test('lowerFilter(): tcp.PayloadLength is exact per data offset (20-byte IPv4 header; IPv6 without extension headers or with a fragment header first)', () => {
  const l = lowerFilter('outbound and tcp.PayloadLength > 0');
  const exact = l.rules.filter((r) => !r.residual);
  assert.equal(exact.filter((r) => r.family === 'ipv4').length, 11);
  assert.equal(exact.filter((r) => r.family === 'ipv6').length, 22);
  assert.deepEqual(l.rules.filter((r) => r.residual).map((r) => r.reasons[0]), [
    'IPv4 options: tcp.PayloadLength is decided in user space', ...new Array<string>(3).fill('IPv6 extension headers: nf_tables walks them unlike WinDivert, user space decides'),
  ]);
});

test('lowerFilter(): IPv6 with a fragment header first is exact: protocol after it, offset at network + 42, transport at 48', () => {
  const l = lowerFilter('ipv6 and fragment and udp.DstPort == 53');
  const text = l.rules.filter((r) => !r.residual).map((r) => formatExprs(r.exprs));
  assert.equal(text.length, 2, 'one per hook');
  assert.match(text[0]!, /network header \+ 6 => reg 1 \]\n {2}\[ cmp eq reg 1 0x0000002c \][^]*network header \+ 40 => reg 1 \]\n {2}\[ cmp eq reg 1 0x00000011 \][^]*network header \+ 42 => reg 1 \]\n {2}\[ bitwise reg 1 = \( reg 1 & 0x0000f8ff \)/);
  assert.deepEqual(lowerFilter('ipv6 and not fragment and ipv6.NextHdr == 44 and protocol == 17 and ipv6.Length > 7').rules.filter((r) => !r.residual), []);
});

test('lowerFilter(): a rule never holds more than MAX_RULE_EXPRS expressions; huge filters are approximated', () => {
  for (const c of CASES) {
    const l = lowerFilter(c.filter);
    for (const r of l.rules) {
      assert.ok(r.exprs.length <= MAX_RULE_EXPRS, `${r.exprs.length} expressions: ${c.filter}`);
      for (const name of r.sets) assert.ok(l.sets.some((s) => s.set.name === name));
    }
    assert.ok(l.rules.filter((r) => r.hook === 'prerouting').length <= 48 && l.rules.filter((r) => r.hook === 'postrouting').length <= 48, c.filter);
  }
  const long = CASES.find((c) => c.filter.startsWith('packet32[0] = 0x45000209'))!;
  assert.match(lowerFilter(long.filter).explain(), /more tests than one rule holds/);
  const forest = CASES.find((c) => c.filter.startsWith('((((packet[31] > 0x54'))!;
  const l = lowerFilter(forest.filter, { maxRules: 8 });
  assert.ok(l.rules.length <= 16 && l.rules.every((r) => r.residual), 'approximated');
});

test('lowerFilter(): exact rules come before residual ones at each hook', () => {
  for (const c of CASES.slice(0, 120)) {
    const l = lowerFilter(c.filter);
    for (const hook of ['prerouting', 'postrouting'] as const) {
      for (const fam of ['ipv4', 'ipv6'] as const) {
        const flags = l.rules.filter((r) => r.hook === hook && r.family === fam).map((r) => r.residual);
        assert.deepEqual(flags, [...flags].sort(), c.filter);
      }
    }
  }
});

/** A TCP or UDP packet (IPv4 198.18.0.1 → 198.18.0.2, or IPv6 2001:db8::1 → ::2), valid enough for the evaluator and _nft_sim. */
function packet(family: 4 | 6, proto: 6 | 17, sport: number, dport: number, ttl = 64, id = 1): Uint8Array {
  const l4 = new Uint8Array(proto === 6 ? 20 : 8);
  l4.set([sport >> 8, sport & 0xff, dport >> 8, dport & 0xff]);
  if (proto === 6) l4.set([0x50, 0x02, 0xff, 0xff], 12);
  else l4.set([0, 8], 4);
  if (family === 4) {
    const b = new Uint8Array(20 + l4.length);
    b.set([0x45, 0, 0, b.length, id >> 8, id & 0xff, 0, 0, ttl, proto, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2]);
    b.set(l4, 20);
    return b;
  }
  const b = new Uint8Array(40 + l4.length);
  b.set([0x60, 0, 0, 0, 0, l4.length, proto, ttl]);
  b.set([0x20, 0x01, 0x0d, 0xb8], 8);
  b[23] = 1;
  b.set([0x20, 0x01, 0x0d, 0xb8], 24);
  b[39] = 2;
  b.set(l4, 40);
  return b;
}

/**
 * The lowered rules (run on _nft_sim) against the evaluator, at both hooks on a non-loopback
 * interface: every match is queued, exact rules queue matches only. Returns the disagreements
 * and how many packets matched.
 */
function disagreements(filter: string, lowered: LoweredFilter, packets: readonly Uint8Array[]): { problems: string[]; matches: number } {
  const compiled = compileFilter(filter);
  const problems: string[] = [];
  let matches = 0;
  for (const p of packets) {
    for (const hook of ['prerouting', 'postrouting'] as const) {
      const meta: SimMeta = hook === 'prerouting'
        ? { hook, iif: 2, oif: 0, iiftype: 1, oiftype: 0, mark: 0 }
        : { hook, iif: 0, oif: 2, iiftype: 0, oiftype: 1, mark: 0 };
      const expected = compiled.match(p, { hook, ifindex: meta.iif, outIfindex: meta.oif, mark: 0 });
      const rule = simulate(lowered, p, meta);
      if (expected) matches++;
      if (expected ? rule === undefined : rule !== undefined && !rule.residual) {
        problems.push(`${hook} ${Buffer.from(p).toString('hex')}: evaluator ${expected}, rule ${rule ? lowered.rules.indexOf(rule) : -1}`);
      }
    }
  }
  return { problems, matches };
}

test('lowerFilter(): IPv6 extension headers are WinDivert\'s (0, 43, 44, 51, 60, 135): a fragment header first is exact, the others residual, any other next header exact', () => {
  // Behind each next header: 8 bytes that are a minimal header of any extension type (next header UDP), then UDP to port 53.
  const behind = (next: number): Uint8Array => ipv6({ src: '2001:db8::1', dst: '2001:db8::2', next }, [17, 0, 0, 0, 0, 0, 0, 0, ...udp(5353, 53, 'q')]);
  const packets = Array.from({ length: 256 }, (_, next) => behind(next));
  for (const filter of ['udp.DstPort == 53', 'protocol == 17', 'udp', 'fragment', 'not fragment']) {
    const l = lowerFilter(filter);
    assert.deepEqual(disagreements(filter, l, packets).problems, [], filter);
    const residual = packets.flatMap((p, next) => {
      const rule = simulate(l, p, { hook: 'postrouting', iif: 0, oif: 2, iiftype: 0, oiftype: 1, mark: 0 });
      return rule?.residual ? [next] : [];
    });
    assert.deepEqual(residual, [0, 43, 51, 60, 135], filter);
  }
});

/** `((… (tcp.DstPort == 80 ? udp.DstPort == 1 : tcp.SrcPort == 1) …) ? udp.DstPort == n : tcp.SrcPort == n)`. */
function nestedTernary(levels: number): string {
  let s = 'tcp.DstPort == 80';
  for (let i = 1; i <= levels; i++) s = `(${s} ? udp.DstPort == ${i} : tcp.SrcPort == ${i})`;
  return s;
}

test('lowerFilter(): nested ternaries take linear work: a shared condition is normalized and turned into terms once', () => {
  for (const levels of [12, 100]) {
    const stats: LowerStats = { pushed: 0, dnfNodes: 0 };
    lowerCounted(nestedTernary(levels), {}, stats);
    // 72 and 48 per level measured (4 hook-family pairs); each shared condition once per pair.
    assert.ok(stats.pushed <= 100 * (levels + 1), `${levels} levels: ${stats.pushed} nodes normalized`);
    assert.ok(stats.dnfNodes <= 100 * (levels + 1), `${levels} levels: ${stats.dnfNodes} nodes turned into terms`);
  }
});

test('lowerFilter(): a 100-level nested ternary lowers in well under a second and agrees with the evaluator', () => {
  const filter = nestedTernary(100);
  const started = performance.now();
  const l = lowerFilter(filter);
  const ms = performance.now() - started;
  // ~0.2 s here (it doubled per level before: 64 s at 18 levels); generous for a loaded machine.
  assert.ok(ms < 5000, `${ms.toFixed(0)} ms`);
  const packets: Uint8Array[] = [];
  for (const family of [4, 6] as const) {
    for (const [sport, dport] of [[100, 80], [99, 80], [100, 1], [5, 99], [1, 2], [100, 100]] as const) {
      packets.push(packet(family, 6, sport, dport), packet(family, 17, sport, dport));
    }
  }
  const { problems, matches } = disagreements(filter, l, packets);
  assert.deepEqual(problems, []);
  assert.ok(matches > 0, 'some packets match');
});

test('lowerFilter(): an or of many ports stays exact in both families: alternatives merge into a set before the cap', () => {
  for (const n of [52, 200]) {
    const ports = Array.from({ length: n }, (_, i) => 7 * i + 1); // 1, 8, 15…: a set, not a range
    const filter = ports.map((p) => `tcp.DstPort == ${p}`).join(' or ');
    const l = lowerFilter(filter);
    assert.doesNotMatch(l.explain(), /too many alternatives|approximated/, `${n} ports`);
    for (const family of ['ipv4', 'ipv6'] as const) {
      const exact = l.rules.filter((r) => r.family === family && !r.residual);
      assert.ok(exact.length > 0, `${n} ports: exact ${family} rules`);
      for (const r of exact) assert.ok(r.sets.some((s) => l.sets.find((x) => x.set.name === s)!.elements.length === n), `${n} ports: each exact ${family} rule looks the ports up`);
    }
    const last = ports[n - 1]!;
    const packets = [1, 8, last, 2, last + 1, 443].flatMap((port) => [packet(4, 6, 1000, port), packet(6, 6, 1000, port), packet(6, 17, 1000, port)]);
    const { problems, matches } = disagreements(filter, l, packets);
    assert.deepEqual(problems, []);
    assert.equal(matches, 3 * 2 * 2, 'TCP to ports 1, 8 and the last, both families, both hooks');
    // Not queued at all (before, a residual rule took every IPv6 TCP packet: the cap dropped the port test).
    for (const p of [packet(4, 6, 1000, 2), packet(6, 6, 1000, 2), packet(6, 6, 1000, last + 1), packet(6, 6, 1000, 443)]) {
      assert.equal(simulate(l, p, { hook: 'postrouting', iif: 0, oif: 2, iiftype: 0, oiftype: 1, mark: 0 }), undefined, `${n} ports: ${Buffer.from(p).toString('hex')}`);
    }
  }
});

test('lowerFilter(): at most maxRules rules per hook, even when a set is more than one rule can write; what is loosened goes to user space', () => {
  const ids = Array.from({ length: 4000 }, (_, i) => 3 * i);
  const filters: Array<[string, string, number[]]> = [
    ['257 scattered ports', Array.from({ length: 257 }, (_, i) => `tcp.DstPort == ${7 * i + 1}`).join(' or '), [1, 8, 7 * 256 + 1, 2, 7 * 256 + 2, 443]],
    ['60 port ranges', Array.from({ length: 60 }, (_, i) => `(tcp.DstPort >= ${100 * i + 1} and tcp.DstPort <= ${100 * i + 50})`).join(' or '), [1, 50, 51, 100, 5950, 5951, 443]],
    ['4000 ip.Id values', ids.map((v) => `ip.Id=${v}`).join('||'), [0, 3, 11997, 1, 11998, 50000]],
  ];
  for (const [name, filter, values] of filters) {
    for (const maxRules of [48, 5, 2]) {
      const l = lowerFilter(filter, { maxRules });
      for (const hook of ['prerouting', 'postrouting'] as const) {
        const n = l.rules.filter((r) => r.hook === hook).length;
        assert.ok(n > 0 && n <= maxRules, `${name}, maxRules ${maxRules}: ${n} ${hook} rules`);
      }
      const packets = name.startsWith('4000')
        ? values.flatMap((id) => [packet(4, 6, 1, 2, 64, id), packet(4, 17, 1, 2, 64, id)])
        : values.flatMap((port) => [packet(4, 6, 1000, port), packet(6, 6, 1000, port), packet(4, 17, 1000, port)]);
      const { problems, matches } = disagreements(filter, l, packets);
      assert.deepEqual(problems, [], `${name}, maxRules ${maxRules}`);
      assert.ok(matches > 0, name);
    }
  }
  // 257 points: one more interval than a set holds; the narrowest gap is filled.
  const loosened = lowerFilter(filters[0]![1]).explain();
  assert.match(loosened, /in \{1, 8, 15, 22, 29, 36, … \(257 intervals\)\}: more intervals than one rule holds, the kernel checks \{1\.\.8, 15, 22, 29, 36, 43, … \(256 intervals\)\}/);
  assert.throws(() => lowerFilter('tcp', { maxRules: 1 }), RangeError);
});

test('lowerFilter(): a set of many values with many gaps is an interval set: one exact rule, an element at each start and one past each end', () => {
  const filter = '(udp.DstPort >= 10 and udp.DstPort <= 79) or (udp.DstPort >= 81 and udp.DstPort <= 442) or (udp.DstPort >= 444 and udp.DstPort <= 999) or (udp.DstPort >= 2000 and udp.DstPort <= 2999) or (udp.DstPort >= 40000 and udp.DstPort <= 49999) or udp.DstPort >= 50001';
  const l = lowerFilter(filter);
  assert.equal(l.residual, true, 'IPv6 extension headers only');
  const v4 = l.rules.filter((r) => r.family === 'ipv4');
  assert.deepEqual(v4.map((r) => r.residual), [false, false], 'one exact IPv4 rule per hook');
  const set = l.sets.find((s) => s.set.name === v4[0]!.sets[0])!;
  assert.equal(set.set.flags, NFT_SET.NFT_SET_ANONYMOUS | NFT_SET.NFT_SET_CONSTANT | NFT_SET.NFT_SET_INTERVAL);
  const END = NFT_SET_ELEM.NFT_SET_ELEM_INTERVAL_END;
  assert.deepEqual(set.elements.map((e) => [((e.key[0]! << 8) | e.key[1]!), e.flags ?? 0]), [
    [10, 0], [80, END], [81, 0], [443, END], [444, 0], [1000, END], [2000, 0], [3000, END], [40000, 0], [50000, END], [50001, 0],
  ], 'the last interval runs to 65535: no end element');
  assert.match(l.explain(), /set filter0_0 interval \{ 0x000a, 0x0050 end, 0x0051, /);
  // Inverted: the 5 holes are fewer than the 6 intervals.
  const holes = lowerFilter('udp.DstPort != 22 and udp.DstPort != 80 and udp.DstPort != 443 and udp.DstPort != 50000 and (udp.DstPort < 1000 or udp.DstPort > 1999)');
  assert.match(holes.explain(), /lookup reg 1 set filter0_0 0x1 \][^]*set filter0_0 interval \{ 0x0016, 0x0017 end, 0x0050, 0x0051 end, 0x01bb, 0x01bc end, 0x03e8, 0x07d0 end, 0xc350, 0xc351 end \}/);
  const ports = [0, 9, 10, 22, 79, 80, 81, 442, 443, 444, 999, 1000, 1500, 1999, 2000, 2999, 3000, 39999, 40000, 49999, 50000, 50001, 65535];
  for (const [f, lowered] of [[filter, l], [holes.filter, holes]] as const) {
    const { problems, matches } = disagreements(f, lowered, ports.flatMap((port) => [packet(4, 17, 1, port), packet(6, 17, 1, port), packet(4, 6, 1, port)]));
    assert.deepEqual(problems, [], f);
    assert.ok(matches > 10);
    for (const port of ports) {
      const rule = simulate(lowered, packet(4, 17, 1, port), { hook: 'postrouting', iif: 0, oif: 2, iiftype: 0, oiftype: 1, mark: 0 });
      assert.equal(rule !== undefined, compileFilter(f).match(packet(4, 17, 1, port), { outbound: true }), `port ${port}: decided in the kernel`);
    }
  }
});

test('lowerFilter(): the interval sets of one filter stay within MAX_INTERVAL_SET_BYTES (one netlink batch); past it they are coarsened, residual', () => {
  // 10 TTL values, each with 260 scattered ports: 20 sets of 256 intervals (10,240 elements) failed with EMSGSIZE.
  const filter = Array.from({ length: 10 }, (_, t) => `(ip.TTL=${t}&&(${Array.from({ length: 260 }, (_, i) => `tcp.DstPort=${7 * i + t + 1}`).join('||')}))`).join('||');
  const l = lowerFilter(filter);
  const bytes = l.sets.filter((s) => (s.set.flags! & NFT_SET.NFT_SET_INTERVAL) !== 0).reduce((n, s) => n + s.elements.length * (24 + ((s.set.keyLen! + 3) & ~3)), 0);
  assert.ok(bytes > MAX_INTERVAL_SET_BYTES / 2 && bytes <= MAX_INTERVAL_SET_BYTES, `${bytes} bytes`);
  assert.match(l.explain(), /interval sets would outgrow one netlink batch/);
  const packets = [1, 2, 8, 1800, 1801, 1822, 3000].flatMap((port) => [0, 1, 9, 10].map((ttl) => packet(4, 6, 1, port, ttl)));
  const { problems, matches } = disagreements(filter, l, packets);
  assert.deepEqual(problems, []);
  assert.ok(matches > 0);
});

test('lowerFilter(): work grows with the filter, not its square: 4000 alternatives are merged (keyed once each) before any pairwise simplification', () => {
  const stats: LowerStats = { pushed: 0, dnfNodes: 0 };
  lowerCounted(Array.from({ length: 4000 }, (_, i) => `ip.Id=${3 * i}`).join('||'), {}, stats);
  // 8,012 measured; simplifying the 4000 terms before merging them compared 32 million pairs (2.7 s).
  assert.ok(stats.compared! <= 5 * 4000, `${stats.compared} terms compared or keyed`);
});

test('lowerFilter(): 399 levels of alternating and/or lower in seconds', () => {
  let filter = 'tcp.DstPort == 0';
  for (let i = 1; i <= 399; i++) filter = `(${filter}) ${i % 2 ? 'and' : 'or'} ${i % 2 ? `ip.TTL != ${i}` : `tcp.DstPort == ${i}`}`;
  const started = performance.now();
  const l = lowerFilter(filter);
  const ms = performance.now() - started;
  // ~2.3 s here (28 s before: every or compared all pairs of its terms again); generous for a loaded machine.
  assert.ok(ms < 12_000, `${ms.toFixed(0)} ms`);
  const { problems, matches } = disagreements(filter, l, [398, 396, 1, 0, 5].flatMap((port) => [packet(4, 6, 1, port, 64), packet(4, 6, 1, port, 2), packet(6, 6, 1, port)]));
  assert.deepEqual(problems, []);
  assert.ok(matches > 0);
});
