/**
 * Seeded random filters and packets, checked without a kernel: the lowered rules run on the
 * model of nf_tables in _nft_sim.ts (which test/integration/filter_kernel_test.ts checks against
 * the real kernel on the same generator). Fixed seed, a few thousand pairs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIVERT_MARK } from '../firewall/mark.js';
import { compileFilter, fieldValue, type FilterAddress } from './evaluate.js';
import { formatFilter } from './format.js';
import { lowerFilter } from './lower_nft.js';
import { simulate, type SimMeta } from './_nft_sim.js';
import { Rng, randomFilter, randomPacket } from './_random.js';

const PAIRS = 6000;

test('random filters: kernel rules (modelled) and the evaluator agree: exact rules only queue matches, every match is queued', () => {
  const rng = new Rng(20261130);
  const problems: string[] = [];
  let pairs = 0;
  let exact = 0;
  let matches = 0;
  while (pairs < PAIRS) {
    const refs = Array.from({ length: 4 }, () => randomPacket(rng));
    const filter = randomFilter(rng, refs, (f, p, o) => fieldValue(f, p, { outbound: true }, o), 3);
    const compiled = compileFilter(filter);
    const lowered = lowerFilter(filter);
    for (let k = 0; k < 20; k++, pairs++) {
      const packet = rng.chance(0.5) ? refs[k % 4]! : randomPacket(rng);
      const hook = rng.chance(0.5) ? 'prerouting' : 'postrouting';
      const lo = rng.chance(0.15);
      const mark = rng.pick([0, DIVERT_MARK, 0x1234]);
      const meta: SimMeta = hook === 'prerouting'
        ? { hook, iif: lo ? 1 : 2, oif: 0, iiftype: lo ? 772 : 1, oiftype: 0, mark }
        : { hook, iif: 0, oif: lo ? 1 : 2, iiftype: 0, oiftype: lo ? 772 : 1, mark };
      const address: FilterAddress = { hook, ifindex: meta.iif, outIfindex: meta.oif, loopback: lo, mark, timestamp: 77 };
      const expected = compiled.match(packet, address);
      const rule = simulate(lowered, packet, meta);
      if (expected) matches++;
      if (rule && !rule.residual) exact++;
      // A packet a loopback device received was taken when it left: prerouting never diverts it.
      const ok = hook === 'prerouting' && lo ? rule === undefined : expected ? rule !== undefined : !rule || rule.residual;
      if (!ok) problems.push(`${JSON.stringify(filter)} ${hook}${lo ? ' lo' : ''} mark ${mark}: evaluator ${expected}, rule ${rule ? lowered.rules.indexOf(rule) : -1}, packet ${Buffer.from(packet).toString('hex')}`);
    }
  }
  assert.deepEqual(problems.slice(0, 5), []);
  assert.ok(matches > PAIRS / 10 && exact > matches / 2, `${matches} matches, ${exact} decided exactly in the kernel`);
});

test('random filters: the canonical text parses to a filter that answers the same', () => {
  const rng = new Rng(7);
  for (let i = 0; i < 400; i++) {
    const refs = Array.from({ length: 3 }, () => randomPacket(rng));
    const filter = randomFilter(rng, refs, (f, p, o) => fieldValue(f, p, undefined, o), 3);
    const canonical = formatFilter(filter);
    assert.equal(formatFilter(canonical), canonical);
    const a = compileFilter(filter);
    const b = compileFilter(canonical);
    for (const p of refs) {
      const address = { outbound: rng.chance(0.5), timestamp: 3 };
      assert.equal(b.match(p, address), a.match(p, address), `${filter} → ${canonical}`);
    }
  }
});

test('randomPacket(): valid IP headers (lengths, IPv4 checksum, non-zero id), deterministic per seed', () => {
  const a = new Rng(3);
  const b = new Rng(3);
  for (let i = 0; i < 500; i++) {
    const p = randomPacket(a);
    assert.deepEqual(p, randomPacket(b));
    if (p[0]! >> 4 === 4) {
      assert.equal((p[2]! << 8) | p[3]!, p.length);
      assert.notEqual((p[4]! << 8) | p[5]!, 0);
      let sum = 0;
      for (let k = 0; k < (p[0]! & 15) * 4; k += 2) sum += (p[k]! << 8) | p[k + 1]!;
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      assert.equal(sum, 0xffff, 'IPv4 header checksum');
    } else {
      assert.equal(((p[4]! << 8) | p[5]!) + 40, p.length);
    }
  }
});
