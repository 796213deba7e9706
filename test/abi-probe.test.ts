// The compat-ABI probe (native/abi_probe.c through src/record/abi-probe.ts) for real: it agrees
// with what the fixture's own int 0x80 / x32 calls do here, and under scripts/no-ia32.c (a
// filter killing every i386 call, as a kernel without ia32 emulation would) doctor reports
// i386 calls as not run, naming the signal.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { abiFact, describeAbi, probeCompatAbis } from '../src/record/abi-probe.js';
import { REPO, runCli } from './helpers/cli.js';
import { fixture, hasCommand } from './helpers/fixtures.js';
import { sharedTempDir } from './helpers/tmp.js';

const skip = process.arch !== 'x64' ? `compat ABIs exist only on x86_64 (this machine: ${process.arch})` : !hasCommand('gcc') ? 'gcc is not installed (apt-get install gcc)' : false;

/** The developers' wrapper, compiled once for this file. */
function noIa32(): string {
  const out = join(sharedTempDir('no-ia32'), 'no-ia32');
  execFileSync('gcc', ['-O2', '-o', out, join(REPO, 'scripts/no-ia32.c')], { stdio: 'pipe' });
  return out;
}

interface DoctorJson {
  checks: { name: string; ok: boolean; required: boolean; detail: string }[];
}

t.test('wording: what each outcome is called', async (t) => {
  const segv = abiFact('i386', { status: 'signal', signal: 11 });
  t.match(segv, { runs: false, returned: false, seen: 'int 0x80 → SIGSEGV' });
  t.equal(describeAbi(segv), 'not run by this kernel (int 0x80 → SIGSEGV)');
  const enosys = abiFact('x32', { status: 'returned', value: -38, pid: 7 });
  t.match(enosys, { runs: false, returned: true, seen: 'x32 getpid → ENOSYS' });
  t.equal(describeAbi(enosys), 'not run by this kernel (x32 getpid → ENOSYS)');
  const runs = abiFact('i386', { status: 'returned', value: 7, pid: 7 });
  t.match(runs, { runs: true, returned: true });
  t.equal(describeAbi(runs), 'run by this kernel');
  t.match(abiFact('i386', { status: 'returned', value: 5, pid: 7 }), { runs: false, returned: true, seen: "int 0x80 getpid → 5, not the caller's pid 7" });
  t.match(abiFact('x32', { status: 'exited', code: 3 }), { runs: false, returned: false });
});

t.test('the probe agrees with the fixture\'s own compat calls on this kernel', { skip }, async (t) => {
  const probe = await probeCompatAbis();
  if (!probe.applicable) throw new Error('x86_64, yet the probe says not applicable');
  t.comment(`this kernel: i386 ${describeAbi(probe.i386)}; x32 ${describeAbi(probe.x32)}`);
  const i386 = spawnSync(fixture('syscalls'), ['--compat=i386']);
  if (probe.i386.runs) t.equal(i386.status, 0, 'int 0x80 getpid runs: the fixture exits 0');
  else t.equal(`int 0x80 → ${i386.signal}`, probe.i386.seen, 'the fixture dies of the signal the probe named');
  const x32 = spawnSync(fixture('syscalls'), ['--compat=x32']);
  if (probe.x32.returned) t.equal(x32.status, 0, `the x32 call returns (${probe.x32.seen}): the fixture exits 0`);
  else t.equal(`x32 getpid → ${x32.signal}`, probe.x32.seen, 'the fixture dies of the signal the probe named');
});

t.test('under a filter that kills i386 calls, doctor reports them not run and names the signal; x32 is unchanged', { skip }, async (t) => {
  const wrapper = noIa32();
  const killed = spawnSync(wrapper, [fixture('syscalls'), '--compat=i386']);
  t.equal(killed.signal, 'SIGSYS', 'the wrapper works: an int 0x80 caller gets SIGSYS');
  const plain = await probeCompatAbis();
  if (!plain.applicable) throw new Error('x86_64, yet the probe says not applicable');

  const r = await runCli(['doctor', '--json'], { prefix: [wrapper] });
  const doc = JSON.parse(r.stdout) as DoctorJson;
  const check = (name: string) => doc.checks.find((c) => c.name === name);
  t.same(check('32-bit (i386) syscalls'), { name: '32-bit (i386) syscalls', ok: false, required: false, detail: 'not run by this kernel (int 0x80 → SIGSYS)' });
  t.same(check('x32 syscalls'), { name: 'x32 syscalls', ok: plain.x32.runs, required: false, detail: describeAbi(plain.x32) }, 'the filter leaves x32 alone');

  const text = await runCli(['doctor']);
  t.match(text.stdout, new RegExp(`\\n(ok|--)\\s+32-bit \\(i386\\) syscalls\\s+${describeAbi(plain.i386).replace(/[()]/g, '\\$&')}\\n`), 'the text report, without the filter: what this kernel does');
});
