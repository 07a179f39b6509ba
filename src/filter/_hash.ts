/**
 * WinDivert's packet hash behind `random8`, `random16` and `random32` (dll/windivert_hash.c:
 * xxHash64 specialised to one 32-byte round, seeded with the timestamp and the headers, each
 * word read little-endian as on x86). Deterministic: the same headers and timestamp give the
 * same "random" values, as in WinDivert.
 * @module
 */
import { u32le } from '../netlink/bytes.js';

const M64 = (1n << 64n) - 1n;
const P1 = 11400714785074694791n;
const P2 = 14029467366897019727n;
const P3 = 1609587929392839161n;
const P4 = 9650029242287828579n;
/** SHA-2 IV words WinDivert pads with. */
const PAD = [
  0x428a2f9871374491n, 0xb5c0fbcfe9b5dba5n, 0x3956c25b59f111f1n, 0x923f82a4ab1c5ed5n, 0xd807aa9812835b01n,
  0x243185be550c7dc3n, 0x72be5d7480deb1fen, 0x9bdc06a7c19bf174n, 0xe49b69c1efbe4786n,
] as const;

function rotl(x: bigint, r: bigint): bigint {
  return ((x << r) | (x >> (64n - r))) & M64;
}

function round(acc: bigint, input: bigint): bigint {
  return (rotl((acc + input * P2) & M64, 31n) * P1) & M64;
}

function mergeRound(acc: bigint, val: bigint): bigint {
  return (((acc ^ round(0n, val)) * P1) + P4) & M64;
}

function le64(b: Uint8Array, o: number): bigint {
  return (BigInt(u32le(b, o + 4)) << 32n) | BigInt(u32le(b, o));
}

/** The L4 header the hash reads: its kind and offset in `b`. */
export interface HashInput {
  b: Uint8Array;
  v4: boolean;
  v6: boolean;
  tcp: boolean;
  /** UDP, ICMP or ICMPv6: 8 bytes are hashed. */
  short8: boolean;
  l4: number;
}

/**
 * WinDivertHashPacket(seed, headers) with `random64 |= 0xFF00…` applied, as 64 bits. 0 when
 * there is no IP header.
 */
export function hashPacket(seed: bigint, p: HashInput): bigint {
  const s = seed & M64;
  const b = p.b;
  let v1 = s ^ PAD[0];
  let v2: bigint;
  let v3: bigint;
  let v4: bigint;
  const v: bigint[] = [0n, 0n, 0n, 0n];
  let i: number;
  if (p.v4) {
    v2 = le64(b, 0) ^ PAD[1];
    v3 = le64(b, 8) ^ PAD[2];
    v4 = BigInt(u32le(b, 16)) ^ PAD[3];
    i = 0;
  } else if (p.v6) {
    v2 = le64(b, 0) ^ PAD[1];
    v3 = le64(b, 8) ^ PAD[2];
    v4 = le64(b, 16) ^ PAD[3];
    v[0] = le64(b, 24) ^ PAD[4];
    v[1] = le64(b, 32) ^ PAD[5];
    i = 2;
  } else {
    return 0n;
  }
  if (p.tcp) {
    v[i] = le64(b, p.l4) ^ PAD[i + 4]!;
    i++;
    v[i] = le64(b, p.l4 + 8) ^ PAD[i + 4]!;
    i++;
    if (i <= 3) {
      v[i] = BigInt(u32le(b, p.l4 + 16)) ^ PAD[i + 4]!;
      i++;
    } else {
      v2 ^= BigInt(u32le(b, p.l4 + 16)) << 32n;
    }
  } else if (p.short8) {
    v[i] = le64(b, p.l4) ^ PAD[i + 4]!;
    i++;
  }
  while (i <= 3) {
    v[i] = s ^ PAD[i + 4]!;
    i++;
  }
  v1 = round(v[0]!, v1);
  v2 = round(v[1]!, v2);
  v3 = round(v[2]!, v3);
  v4 = round(v[3]!, v4);
  let h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M64;
  h = mergeRound(h, v1);
  h = mergeRound(h, v2);
  h = mergeRound(h, v3);
  h = mergeRound(h, v4);
  h = (h + 32n) & M64;
  h ^= h >> 33n;
  h = (h * P2) & M64;
  h ^= h >> 29n;
  h = (h * P3) & M64;
  h ^= h >> 32n;
  return h | 0xff00_0000_0000_0000n;
}
