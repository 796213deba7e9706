// diff weighs names libseccomp does not know as validate does: in a rule that
// allows what the default denies, a warning (stricter on this node); in a rule
// that denies what the default allows, an error that fails the diff (the new
// profile is looser here than written). Docker's and containers-common's
// defaults (test/fixtures/runtime-defaults) as the real-world cases.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { knownToLibseccomp } from '../src/seccomp/syscall-exists.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const DEFAULTS = new URL('./fixtures/runtime-defaults/', import.meta.url).pathname;

for (const file of ['moby-default.json', 'containers-common.json']) {
  t.test(`${file} against itself: each unknown allowed name a warning, no change, exit 0`, async (t) => {
    const doc = JSON.parse(readFileSync(join(DEFAULTS, file), 'utf8')) as { syscalls: { names: string[]; action: string; includes?: object; excludes?: object }[] };
    // Rules without includes/excludes apply on every machine; the others are resolved for this one first.
    const plain = (r: { includes?: object; excludes?: object }) => !Object.keys(r.includes ?? {}).length && !Object.keys(r.excludes ?? {}).length;
    const unknown = [...new Set(doc.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && plain(r)).flatMap((r) => r.names))].filter((n) => !knownToLibseccomp(n)).sort();
    const r = await runCli(['diff', join(DEFAULTS, file), join(DEFAULTS, file)]);
    t.equal(r.code, 0, r.stderr);
    for (const n of unknown) t.match(r.stdout, `warning: "${n}" not allowed here`, `${n}: a warning`);
    t.notMatch(r.stdout, /: error: /);
    if (!unknown.length) t.comment('this libseccomp knows every name the file allows');
  });
}

t.test('a new profile denying an unknown name the default allows: an error, and the diff fails', async (t) => {
  const dir = tempDir('diff-unknown', t);
  const rule = (names: string[]) => JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names, action: 'SCMP_ACT_ERRNO' }] });
  writeFileSync(join(dir, 'old.json'), rule(['reboot']));
  writeFileSync(join(dir, 'new.json'), rule(['reboot', 'not_a_syscall_x']));
  const r = await runCli(['diff', join(dir, 'old.json'), join(dir, 'new.json')]);
  t.equal(r.code, 1, 'fails: the new profile is looser here than written');
  t.match(r.stdout, 'error: "not_a_syscall_x" not denied here');
  const never = await runCli(['diff', join(dir, 'old.json'), join(dir, 'new.json'), '--fail-on', 'never']);
  t.equal(never.code, 0, '--fail-on never still passes');
  const reversed = await runCli(['diff', join(dir, 'new.json'), join(dir, 'old.json')]);
  t.match(reversed.stdout, 'error: "not_a_syscall_x"', 'the old side is weighed too');
});
