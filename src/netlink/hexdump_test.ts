import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffHex, hexdump } from './hexdump.js';

test('hexdump() prints 4 bytes per line with offset and ASCII', () => {
  assert.equal(
    hexdump(Uint8Array.from([0x14, 0x00, 0x00, 0x00, 0x6c, 0x6f])),
    '0000  14 00 00 00  |....|\n0004  6c 6f        |lo  |',
  );
});

test('diffHex() returns undefined for equal bytes and marks differing lines', () => {
  assert.equal(diffHex(Uint8Array.from([1, 2]), Uint8Array.from([1, 2])), undefined);
  const d = diffHex(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 9]), Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
  assert.equal(
    d,
    [
      'expected 8 bytes, actual 8 bytes',
      '  0000  01 02 03 04  |....|',
      '- 0004  05 06 07 08  |....|',
      '+ 0004  05 06 07 09  |....|',
    ].join('\n'),
  );
});

test('diffHex() shows missing trailing lines', () => {
  const d = diffHex(Uint8Array.from([1, 2, 3, 4]), Uint8Array.from([1, 2, 3, 4, 5]));
  assert.match(String(d), /^- 0004  05/m);
});
