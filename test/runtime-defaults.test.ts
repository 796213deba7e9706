// Real-world runtime defaults (test/fixtures/runtime-defaults/, written down
// from moby's and containers-common's published profiles): names libseccomp
// does not know are weighed by what their rule does, the same in validate,
// explain and run; explain resolves a Docker-shaped profile as diff does.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { validateProfileText } from '../src/profile/validate.js';
import { libseccompVersion } from '../src/seccomp/libseccomp.js';
import { knownToLibseccomp } from '../src/seccomp/syscall-exists.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const FIX = 'test/fixtures/runtime-defaults/';
const MOBY = `${FIX}moby-default.json`;
const COMMON = `${FIX}containers-common.json`;
const NEWER = ['getxattrat', 'listmount', 'listxattrat', 'mseal', 'removexattrat', 'riscv_hwprobe', 'setxattrat', 'statmount', 'uretprobe'];
const unknownHere = NEWER.filter((n) => !knownToLibseccomp(n));
const skipNewer = unknownHere.length ? false : `libseccomp ${libseccompVersion()} knows every name the fixture relies on being unknown`;

t.test("validate: Docker's default is valid; each name libseccomp does not know, in its allow rule, is a warning at its path", { skip: skipNewer }, async (t) => {
  const text = readFileSync(MOBY, 'utf8');
  const { report } = validateProfileText(text, MOBY);
  t.equal(report.valid, true, JSON.stringify(report.errors));
  t.same(report.errors, []);
  const names = (JSON.parse(text) as { syscalls: { names: string[] }[] }).syscalls[0].names;
  const unknown = report.warnings.filter((w) => w.code === 'unknown-syscall');
  t.same(
    unknown.map((w) => w.path),
    unknownHere.map((n) => `syscalls[0].names[${names.indexOf(n)}]`),
  );
  for (const w of unknown) t.match(w.message, `not allowed here: libseccomp ${libseccompVersion()} does not know it`);
  const cli = await runCli(['validate', MOBY]);
  t.equal(cli.code, 0, cli.stdout + cli.stderr);
  t.match(cli.stdout, /valid \(OCI JSON\), 0 errors/);
  const strict = await runCli(['validate', '--strict', MOBY]);
  t.equal(strict.code, 1, '--strict still fails on the warnings');
});

t.test("validate: containers-common's default is valid with no unknown names", async (t) => {
  const { report } = validateProfileText(readFileSync(COMMON, 'utf8'), COMMON);
  t.equal(report.valid, true, JSON.stringify(report.errors));
  t.same(report.warnings.filter((w) => w.code === 'unknown-syscall'), []);
  t.equal(report.resolvedFor?.caps.includes('CAP_AUDIT_WRITE'), true, "resolved for Docker's default capabilities");
});

const tmp = tempDir('defaults');
const write = (name: string, doc: unknown) => {
  writeFileSync(join(tmp, name), JSON.stringify(doc));
  return join(tmp, name);
};

t.test('a rule that denies what the default allows: an unknown name in it is an error, in validate and in run', { skip: skipNewer }, async (t) => {
  const name = unknownHere[0];
  const file = write('deny-list.json', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['ptrace', name], action: 'SCMP_ACT_ERRNO' }] });
  const { report } = validateProfileText(readFileSync(file, 'utf8'), file);
  t.equal(report.valid, false);
  t.match(report.errors, [{ path: 'syscalls[0].names[1]', code: 'unknown-syscall', message: /not denied here: .*looser than written/ }]);
  const run = await runCli(['run', '--profile', file, '--', 'true']);
  t.equal(run.code, 1, run.stderr);
  t.match(run.stderr, /^error: the profile cannot be enforced as written: syscalls\[0\]\.names\[1\]: /);
  t.notMatch(run.stderr, /internal error|\n\s+at /);
  // The same name in a deny rule under a deny default only changes how the call fails.
  const other = write('deny-deny.json', { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }, { names: [name], action: 'SCMP_ACT_KILL_PROCESS' }] });
  const r2 = validateProfileText(readFileSync(other, 'utf8'), other).report;
  t.equal(r2.valid, true);
  t.match(r2.warnings, [{ path: 'syscalls[1].names[0]', code: 'unknown-syscall' }]);
});

t.test('explain resolves a Docker-shaped profile as diff does', async (t) => {
  const ex = await runCli(['explain', MOBY, '--no-baseline', '--json']);
  t.equal(ex.code, 0, ex.stderr);
  const doc = JSON.parse(ex.stdout) as { allowed: string[]; notes: string[]; arches: string[] };
  t.match(doc.notes[0], /^Docker-shaped includes\/excludes resolved for /);
  t.notOk(doc.allowed.includes('unshare'), 'CAP_SYS_ADMIN rules left out for Docker\'s default capabilities');
  t.ok(doc.allowed.includes('ptrace'), 'minKernel 4.8 rule applies on this kernel');
  const empty = write('empty.json', { defaultAction: 'SCMP_ACT_ERRNO', architectures: doc.arches.map((a) => `SCMP_ARCH_${a.toUpperCase()}`), syscalls: [] });
  const diff = await runCli(['diff', empty, MOBY, '--format', 'json', '--fail-on', 'never']);
  t.equal(diff.code, 0, diff.stderr);
  const widened = (JSON.parse(diff.stdout) as { changes: { kind: string; syscall?: string }[] }).changes.filter((c) => c.kind === 'allowed').map((c) => c.syscall!);
  t.same([...widened].sort(), doc.allowed, 'the same names allowed');
  // "what does Docker's default allow that this one does not" is one command.
  const cmp = await runCli(['explain', MOBY, '--baseline', COMMON]);
  t.equal(cmp.code, 0, cmp.stderr);
  t.match(cmp.stdout, /allowed here but denied by RuntimeDefault: .*\bgetppid\b/);
});
