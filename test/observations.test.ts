// Naming raw notify entries: each number is named on its own arch through libseccomp.
import t from 'tap';
import { nameEntries } from '../src/record/observations.js';
import type { RawEntry } from '../src/record/native.js';

const entry = (arch: number, nr: number, count = 1, extra: Partial<RawEntry> = {}): RawEntry => ({
  arch,
  nr,
  count,
  firstPid: 1,
  phase: 'workload',
  ...extra,
});

t.test('names per arch: x86_64, i386 (compat) and x32 share no names by accident', async (t) => {
  const { observations, unknownArch } = nameEntries([
    entry(0xc000003e, 39, 5), // x86_64 getpid
    entry(0x40000003, 20, 2), // i386 getpid
    entry(0x40000003, 39), // i386 39 is mkdir, not getpid
    entry(0xc000003e - 2 ** 32, 0x40000000 | 39), // x32 getpid; arch as a signed int from C
    entry(0xc00000b7, 172), // aarch64 getpid
  ]);
  t.same(unknownArch, []);
  t.same(
    observations.map((o) => `${o.arch}/${o.syscall}/${o.count}`),
    ['aarch64/getpid/1', 'x32/getpid/1', 'x86/getpid/2', 'x86/mkdir/1', 'x86_64/getpid/5'],
  );
});

t.test('numbers libseccomp cannot name are kept as numbers, unknown arches set apart', async (t) => {
  const { observations, unknownArch } = nameEntries([entry(0xc000003e, 1999, 3), entry(0x12345, 1)]);
  t.same(observations, [{ arch: 'x86_64', nr: 1999, count: 3 }]);
  t.equal(unknownArch.length, 1);
});

t.test('watched argument values become sorted hex tuples with the overflow flag', async (t) => {
  const { observations } = nameEntries([
    entry(0xc000003e, 41, 4, { args: [[10n, 2n], [1n, 0x80001n]], overflowed: false }), // socket(domain, type)
    entry(0xc000003e, 54, 1, { args: [[1n, 2n]], overflowed: true }), // setsockopt
  ]);
  t.same(observations[0].args, { names: ['level', 'optname'], values: [['0x1', '0x2']], overflowed: true });
  t.same(observations[1].args, { names: ['domain', 'type'], values: [['0x1', '0x80001'], ['0xa', '0x2']], overflowed: false });
});
