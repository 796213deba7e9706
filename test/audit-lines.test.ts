// The line reader: plain and gzip'd files (by magic, whatever the name),
// a line-length cap that skips without buffering, any chunking, damaged gzip.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import t from 'tap';
import { InputError } from '../src/errors.js';
import { LineSplitter, readFileLines } from '../src/record/audit/lines.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('audit-lines');

async function read(name: string, data: Buffer | string, max?: number) {
  const path = join(dir, name);
  writeFileSync(path, data);
  const got: string[] = [];
  const res = await readFileLines(path, (l) => got.push(l), max);
  return { got, res };
}

t.test('plain file: CRLF stripped, last line without newline kept, blank lines kept', async (t) => {
  const { got, res } = await read('a.log', 'one\r\ntwo\n\nthree');
  t.same(got, ['one', 'two', '', 'three']);
  t.match(res, { lines: 4, oversized: 0, gzip: false });
});

t.test('gzip detected by its magic bytes, not its name; multi-member streams too', async (t) => {
  const gz = Buffer.concat([gzipSync('a\nb\n'), gzipSync('c\n')]);
  const { got, res } = await read('audit.log.1', gz);
  t.same(got, ['a', 'b', 'c']);
  t.equal(res.gzip, true);
  const named = await read('plain.gz', 'not gzip\n');
  t.same(named.got, ['not gzip']);
  t.equal(named.res.gzip, false);
});

t.test('a cut gzip stream: the lines before the damage are kept, the damage reported', async (t) => {
  const body = Array.from({ length: 20000 }, (_, i) => `line ${i} ${'x'.repeat(40)}`).join('\n');
  const gz = gzipSync(body);
  const { got, res } = await read('cut.gz', gz.subarray(0, Math.floor(gz.length / 2)));
  t.ok(got.length > 0 && got.length < 20000, `${got.length} lines before the cut`);
  t.match(res.damaged, /gzip data damaged after \d+ lines/);
  t.equal(got[0], `line 0 ${'x'.repeat(40)}`);
});

t.test('over-long lines are counted and skipped, neighbours intact, memory bounded', async (t) => {
  const huge = 'H'.repeat(5 * 1024 * 1024);
  const { got, res } = await read('huge.log', `before\n${huge}\nafter\n${huge}`, 1024);
  t.same(got, ['before', 'after']);
  t.equal(res.oversized, 2);
});

t.test('any chunking gives the same lines (byte by byte, with a cap crossing chunks)', async (t) => {
  const text = Buffer.from(`ab\n${'y'.repeat(50)}\ncd\r\nef`);
  const got: string[] = [];
  let skipped = 0;
  const s = new LineSplitter((l) => got.push(l), 16, () => skipped++);
  for (let i = 0; i < text.length; i++) s.push(text.subarray(i, i + 1));
  s.end();
  t.same(got, ['ab', 'cd', 'ef']);
  t.equal(skipped, 1);
  t.equal(s.stats.oversized, 1);
});

t.test('binary bytes pass through as latin1, one char per byte', async (t) => {
  const bytes = Buffer.from([0x00, 0xff, 0x1d, 0x80, 0x0a, 0x41]);
  const { got } = await read('bin.log', bytes);
  t.same(got, ['\x00\xff\x1d\x80', 'A']);
});

t.test('a missing file is an InputError naming it', async (t) => {
  await t.rejects(readFileLines(join(dir, 'nope.log'), () => {}), InputError);
  await t.rejects(readFileLines(join(dir, 'nope.log'), () => {}), { message: /nope\.log: cannot read: no such file/ });
});
