// Saved recordings: round trip, and bad files named field by field.
import t from 'tap';
import { InputError } from '../src/errors.js';
import { parseRecording, serializeRecording } from '../src/profile/recording.js';
import type { Recording } from '../src/profile/recording.js';

const good: Recording = {
  kind: 'seccomp-recorder/recording',
  version: 1,
  identity: { command: ['ls'] },
  arches: ['x86_64'],
  startedAt: '2026-01-01T00:00:00.000Z',
  endedAt: '2026-01-01T00:00:01.000Z',
  exit: { code: 0, signal: null },
  tool: { name: 'seccomp-recorder', version: '0.1.0' },
  stats: { notifications: 3, lost: 0 },
  observations: [{ arch: 'x86_64', syscall: 'socket', nr: 41, count: 3, args: { names: ['domain'], values: [['0x1']], overflowed: false } }],
};

t.test('round trip', async (t) => {
  t.same(parseRecording(serializeRecording(good), 'r.json'), good);
});

t.test('bad fields are all named', async (t) => {
  const bad = { ...good, version: 9, arches: ['vax'], observations: [{ arch: 'x86_64', syscall: 'Bad Name', nr: 'x', count: -1 }] };
  try {
    parseRecording(JSON.stringify(bad), 'r.json');
    t.fail('should throw');
  } catch (err) {
    t.type(err, InputError);
    t.same((err as InputError).problems, [
      'version: unsupported version 9 (this tool reads 1)',
      'arches: expected a list of architecture names such as "x86_64"',
      'observations[0].syscall: not a syscall name: "Bad Name"',
      'observations[0].nr: expected an integer, got "x"',
      'observations[0].count: expected a count, got -1',
    ]);
    t.match((err as Error).message, /^r\.json: version: /);
  }
});
