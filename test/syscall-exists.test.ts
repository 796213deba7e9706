// One meaning of "this syscall exists on this arch" (src/seccomp/syscall-exists.ts),
// on x86, s390x and x86_64, and every command that asks gets the same answer:
// socketcall/ipc-multiplexed calls exist where libseccomp still filters them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { DOCKER_DEFAULT_CAPS } from '../src/profile/baseline.js';
import { explainProfile } from '../src/profile/explain.js';
import { generateProfile } from '../src/profile/generate.js';
import type { Profile } from '../src/profile/model.js';
import { allowListProfile } from '../src/profile/model.js';
import type { Recording } from '../src/profile/recording.js';
import { serializeOci } from '../src/profile/oci.js';
import { resolveNames } from '../src/seccomp/name-report.js';
import { existsOnAny, nameExistence, syscallExistence } from '../src/seccomp/syscall-exists.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

// [arch, name, existence]: real numbers, multiplexed pseudo numbers a filter still reaches, and absent ones.
const TABLE: [string, string, string][] = [
  ['x86', 'socket', 'exists'], // -101: through socketcall(2)
  ['x86', 'recv', 'exists'], // -110: through socketcall(2)
  ['x86', 'shmget', 'exists'], // -223: through ipc(2)
  ['x86', 'socketcall', 'exists'],
  ['x86', 'open', 'exists'],
  ['x86', 'fstat64', 'exists'],
  ['s390x', 'socket', 'exists'],
  ['s390x', 'semop', 'exists'],
  ['s390x', 'socketcall', 'exists'],
  ['s390x', 'fstat64', 'absent'],
  ['x86_64', 'socket', 'exists'],
  ['x86_64', 'recv', 'absent'], // -110 too, but x86_64 has no socketcall: a rule for it does nothing
  ['x86_64', 'socketcall', 'absent'],
  ['x86_64', 'fstat64', 'absent'],
  ['x86_64', 'mseal', 'unknown'],
  ['x86_64', 'no_such_call', 'unknown'],
  ['sparc', 'read', 'absent'], // an arch libseccomp does not know: nothing exists there
];

t.test('the helper, on x86, s390x and x86_64', async (t) => {
  for (const [arch, name, want] of TABLE) t.equal(syscallExistence(arch, name), want, `${name} on ${arch}`);
  t.equal(nameExistence('recv', ['x86_64']), 'none');
  t.equal(nameExistence('recv', ['x86_64', 'x86']), 'some');
  t.equal(nameExistence('mseal', ['x86_64']), 'unknown');
  t.ok(existsOnAny('socket', ['s390x']));
});

t.test("validate's name report agrees with the helper", async (t) => {
  const names = ['socket', 'recv', 'shmget', 'fstat64', 'open', 'socketcall'];
  const report = resolveNames(allowListProfile([], names), ['x86', 's390x', 'x86_64']);
  for (const p of report.perArch) {
    const absent = names.filter((n) => syscallExistence(p.arch, n) === 'absent').sort();
    t.same(p.absent, absent, `absent on ${p.arch}`);
    t.equal(p.resolved, names.length - absent.length);
  }
});

const rec = (arch: string, calls: [string, number][]): Recording => ({
  kind: 'seccomp-recorder/recording',
  version: 1,
  identity: { command: ['/app'] },
  arches: [arch],
  startedAt: '2026-01-01T00:00:00.000Z',
  endedAt: '2026-01-01T00:00:01.000Z',
  exit: { code: 0, signal: null },
  tool: { name: 'seccomp-recorder', version: '0.1.0' },
  observations: calls.map(([syscall, nr]) => ({ arch, syscall, nr, count: 1 })),
}) as unknown as Recording;

t.test('generate keeps socket and recv for an x86 target (they are filtered through socketcall)', async (t) => {
  const { profile } = generateProfile({ recordings: [{ file: 'x86.json', recording: rec('x86', [['read', 3], ['socket', 359], ['recv', 102]]) }], caps: [...DOCKER_DEFAULT_CAPS], kernel: '6.18' });
  t.same(profile.architectures, ['x86']);
  t.same(profile.rules[0]?.names, ['read', 'recv', 'socket']);
});

t.test('explain counts a baseline name that exists on the profile\'s arch through socketcall', async (t) => {
  const profile = allowListProfile(['s390x'], ['read']);
  const baseline = allowListProfile(['s390x'], ['read', 'socket', 'fstat64']);
  const ex = explainProfile(profile, { baseline });
  t.equal(ex.baseline?.allowedCount, 2, 'read and socket exist on s390x; fstat64 does not');
});

t.test('diff: a rule for a name the arch cannot filter is no change there', async (t) => {
  const dir = tempDir('exists', t);
  const write = (name: string, p: Profile) => {
    writeFileSync(join(dir, name), serializeOci(p));
    return join(dir, name);
  };
  const a = write('a.json', allowListProfile(['x86_64'], ['read']));
  const b = write('b.json', allowListProfile(['x86_64'], ['read', 'recv', 'socket']));
  const r = await runCli(['diff', a, b, '--format', 'json', '--fail-on', 'never']);
  t.equal(r.code, 0, r.stderr);
  const changes = (JSON.parse(r.stdout) as { changes: { syscall?: string; arches?: string[] }[] }).changes;
  t.same(changes.map((c) => c.syscall), ['socket'], 'recv does nothing on x86_64: not a widening');
  const x = write('x.json', allowListProfile(['x86'], ['read']));
  const y = write('y.json', allowListProfile(['x86'], ['read', 'recv']));
  const r2 = await runCli(['diff', x, y, '--format', 'json', '--fail-on', 'never']);
  t.same((JSON.parse(r2.stdout) as { changes: { syscall?: string }[] }).changes.map((c) => c.syscall), ['recv'], 'on x86 it is filtered through socketcall: a widening');
});
