// Our CRC-32 is zlib's: the check value, and agreement with node:zlib where this Node has it.
import { randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import t from 'tap';
import { crc32 } from '../src/util/crc32.js';

t.test('the standard check value and the empty input', async (t) => {
  t.equal(crc32('123456789'), 0xcbf43926);
  t.equal(crc32(''), 0);
  t.equal(crc32('é'), crc32(Buffer.from('é', 'utf8')), 'strings are UTF-8');
});

const zlibCrc = (zlib as { crc32?: (d: string | Uint8Array) => number }).crc32;

t.test('agrees with node:zlib on random inputs', { skip: zlibCrc ? false : `node:zlib has no crc32 in Node ${process.version}` }, async (t) => {
  for (let i = 0; i < 200; i++) {
    const buf = randomBytes(i * 7);
    t.equal(crc32(buf), zlibCrc!(buf));
  }
  t.equal(crc32('{"kind":"seccomp-recorder/journal"}'), zlibCrc!('{"kind":"seccomp-recorder/journal"}'));
});
