// `record --known P`: what P allows runs unrecorded; everything else is recorded and reported.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseRecording } from '../src/profile/recording.js';
import { runCli } from './helpers/cli.js';
import { COMPAT_CASES } from './helpers/compat.js';
import { fixture, hasCommand } from './helpers/fixtures.js';
import { sharedTempDir } from './helpers/tmp.js';

const noGcc = hasCommand('gcc') ? false : 'gcc is not installed (apt-get install gcc)';
/** glibc creates threads with clone3 from 2.34 on (clone before): probed, not assumed. */
const noClone3 = (() => {
  try {
    const [major, minor] = execFileSync('getconf', ['GNU_LIBC_VERSION'], { encoding: 'utf8' }).trim().split(' ')[1].split('.').map(Number);
    return major > 2 || (major === 2 && minor >= 34) ? false : `glibc ${major}.${minor} creates threads without clone3 (2.34 and later use it)`;
  } catch {
    return 'not glibc (getconf GNU_LIBC_VERSION failed): its thread creation may not use clone3';
  }
})();

async function baseline(dir: string, args: string[] = []): Promise<{ file: string; profile: any }> {
  const file = join(dir, 'known.json');
  const r = await runCli(['record', '-q', '-o', file, '--', fixture('syscalls'), ...args]);
  if (r.code !== 0) throw new Error(r.stderr);
  return { file, profile: JSON.parse(readFileSync(file, 'utf8')) };
}

function write(dir: string, name: string, profile: unknown): string {
  const f = join(dir, name);
  writeFileSync(f, JSON.stringify(profile, null, 2));
  return f;
}

t.test('a covering profile: nothing new, output equals the profile, only execs reach the supervisor', { skip: noGcc }, async (t) => {
  const dir = sharedTempDir('record-known', t);
  const { file } = await baseline(dir);
  const out = join(dir, 'new.json');
  const rec = join(dir, 'rec.json');
  const r = await runCli(['record', '--known', file, '--fail-on-new', '-o', out, '--save-recording', rec, '--', fixture('syscalls')]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, `nothing new beyond ${file}`);
  t.equal(readFileSync(out, 'utf8'), readFileSync(file, 'utf8'), 'P plus nothing is P, byte for byte');
  const recording = parseRecording(readFileSync(rec, 'utf8'), rec);
  t.same(recording.observations.map((o) => o.syscall), ['execve'], 'only the always-notified execve was seen');
});

t.test('a syscall P lacks is recorded and reported; --fail-on-new exits 1 after writing', { skip: noGcc }, async (t) => {
  const dir = sharedTempDir('record-known', t);
  const { profile } = await baseline(dir);
  profile.syscalls[0].names = profile.syscalls[0].names.filter((n: string) => n !== 'flock');
  const known = write(dir, 'no-flock.json', profile);
  const out = join(dir, 'new.json');
  const r = await runCli(['record', '--known', known, '--fail-on-new', '-o', out, '--', fixture('syscalls')]);
  t.equal(r.code, 1, 'exit 1: something new');
  t.match(r.stderr, `1 new syscall beyond ${known}: flock`);
  t.ok(JSON.parse(readFileSync(out, 'utf8')).syscalls[0].names.includes('flock'), 'the output adds it');
});

t.test('argument conditions are compiled into the filter: a call outside them is new', { skip: noGcc }, async (t) => {
  const dir = sharedTempDir('record-known', t);
  const { profile } = await baseline(dir);
  profile.syscalls[0].names = profile.syscalls[0].names.filter((n: string) => n !== 'personality');
  const withCondition = (value: number) => ({
    ...profile,
    syscalls: [...profile.syscalls, { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }] }],
  });
  // The fixture calls personality(0xffffffff) (a query).
  const outside = write(dir, 'per-linux-only.json', withCondition(0));
  const r1 = await runCli(['record', '--known', outside, '-o', join(dir, 'a.json'), '--', fixture('syscalls')]);
  t.equal(r1.code, 0, r1.stderr);
  t.match(r1.stderr, 'new syscall beyond', 'personality(0xffffffff) is outside arg0 == 0');
  t.match(r1.stderr, /: personality\n/);
  const inside = write(dir, 'query-allowed.json', withCondition(0xffffffff));
  const r2 = await runCli(['record', '--known', inside, '-o', join(dir, 'b.json'), '--', fixture('syscalls')]);
  t.equal(r2.code, 0, r2.stderr);
  t.match(r2.stderr, 'nothing new beyond', 'inside the condition: allowed in the kernel, not recorded');
});

t.test('clone3 answered ENOSYS beside an allowed clone is covered, not new; without that retry it is new', { skip: noGcc || noClone3 }, async (t) => {
  const dir = sharedTempDir('record-known', t);
  const { profile } = await baseline(dir);
  t.ok(profile.syscalls[0].names.includes('clone3'), 'pthread_create made clone3');
  t.ok(profile.syscalls[0].names.includes('clone'), 'fork made clone');
  const without = (name: string) => profile.syscalls[0].names.filter((n: string) => n !== name);
  const retry = write(dir, 'clone3-enosys.json', {
    ...profile,
    syscalls: [{ ...profile.syscalls[0], names: without('clone3') }, { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }],
  });
  const out = join(dir, 'retry-out.json');
  const rec = join(dir, 'retry.rec.json');
  const r1 = await runCli(['record', '--known', retry, '--fail-on-new', '-o', out, '--save-recording', rec, '--', fixture('syscalls')]);
  t.equal(r1.code, 0, r1.stderr);
  t.match(r1.stderr, `nothing new beyond ${retry}`);
  t.same(JSON.parse(readFileSync(out, 'utf8')), JSON.parse(readFileSync(retry, 'utf8')), 'the output is P: clone3 keeps its ENOSYS');
  const recording = parseRecording(readFileSync(rec, 'utf8'), rec);
  t.same(recording.observations.map((o) => o.syscall), ['execve'], 'clone3 was answered in the kernel, as under the profile; glibc retried with the allowed clone');
  const merged = await runCli(['merge', '--check', retry, rec]);
  t.equal(merged.code, 0, `merge --check agrees: ${merged.stdout}${merged.stderr}`);

  // clone3 answered EPERM: no retry, so the recorded clone3 is new.
  const eperm = write(dir, 'clone3-eperm.json', {
    ...profile,
    syscalls: [{ ...profile.syscalls[0], names: without('clone3') }, { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
  });
  const r2 = await runCli(['record', '--known', eperm, '--fail-on-new', '-o', join(dir, 'eperm-out.json'), '--', fixture('syscalls')]);
  t.equal(r2.code, 1, r2.stderr);
  t.match(r2.stderr, `1 new syscall beyond ${eperm}: clone3`);
  // clone3 answered ENOSYS but clone denied: no retry either.
  const noClone = write(dir, 'clone3-enosys-no-clone.json', {
    ...profile,
    syscalls: [
      { ...profile.syscalls[0], names: without('clone3').filter((n: string) => n !== 'clone') },
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    ],
  });
  const r3 = await runCli(['record', '--known', noClone, '-o', join(dir, 'no-clone-out.json'), '--', fixture('syscalls')]);
  t.equal(r3.code, 0, r3.stderr);
  t.match(r3.stderr, /new syscalls beyond [^:]+: clone, clone3\n/);
});

for (const c of COMPAT_CASES) {
  t.test(`a compat call is new when P does not list that architecture: ${c.call}`, { skip: noGcc || c.skip }, async (t) => {
    const dir = sharedTempDir('record-known', t);
    const { file } = await baseline(dir);
    const rec = join(dir, 'rec.json');
    const r = await runCli(['record', '--known', file, '-o', join(dir, 'n.json'), '--save-recording', rec, '--', fixture('syscalls'), c.flag]);
    t.equal(r.code, 0, r.stderr);
    const recording = parseRecording(readFileSync(rec, 'utf8'), rec);
    t.same(recording.observations.filter((o) => o.arch !== 'x86_64').map((o) => `${o.arch}/${o.syscall}`), [c.call]);
    t.match(r.stderr, /new syscall beyond .*: getpid/);
    t.same(JSON.parse(readFileSync(join(dir, 'n.json'), 'utf8')).architectures, [c.oci, 'SCMP_ARCH_X86_64'].sort());
  });
}

t.test('a known profile that does not parse is named, exit 2, nothing run', async (t) => {
  const dir = sharedTempDir('record-known', t);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"defaultAction": "SCMP_ACT_NOPE"}');
  const r = await runCli(['record', '--known', bad, '--', 'true']);
  t.equal(r.code, 2);
  t.equal(r.stderr, `error: ${bad}: defaultAction: unknown action "SCMP_ACT_NOPE"\n`);
});
