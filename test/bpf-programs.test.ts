// The bpf source's kernel programs for real: load them, drive real syscalls
// through them in private cgroups, and read what the kernel kept.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import t from 'tap';
import type { Test } from 'tap';
import type { PrivateCgroup } from '../src/record/bpf/cgroup2.js';
import { createPrivateCgroup } from '../src/record/bpf/cgroup2.js';
import { BpfPrograms } from '../src/record/bpf/programs.js';
import type { BpfCgroupRead } from '../src/record/native.js';
import { nameEntries } from '../src/record/observations.js';
import { bpfUnavailableReason } from '../src/record/sources.js';
import { fixture, hasCommand } from './helpers/fixtures.js';

const skip = !hasCommand('gcc') ? 'gcc is not installed (apt-get install gcc)' : bpfUnavailableReason() ?? false;
if (skip) t.comment(`skipping the bpf program tests: ${skip}`);

function freshCgroup(t: Test): PrivateCgroup {
  const cg = createPrivateCgroup(`test-${process.pid}-${randomBytes(3).toString('hex')}`);
  t.teardown(() => cg.remove());
  return cg;
}

/** Runs argv inside the cgroup: a shell joins it, then execs argv (that exec starts the workload). */
function runIn(cg: PrivateCgroup, argv: string[]): number | null {
  const r = spawnSync('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cg.dir, ...argv], { stdio: 'ignore', timeout: 20000 });
  return r.status;
}

function runInAsync(cg: PrivateCgroup, argv: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cg.dir, ...argv], { stdio: 'ignore' });
    child.on('close', (code) => resolve(code));
  });
}

function names(read: BpfCgroupRead | null, phase: 'runtime' | 'workload'): string[] {
  if (!read) return [];
  return nameEntries(read.entries.filter((e) => e.phase === phase)).observations.map((o) => (o.arch === 'x86_64' ? o.syscall! : `${o.arch}/${o.syscall}`));
}

function count(read: BpfCgroupRead | null, phase: 'runtime' | 'workload', syscall: string): number {
  if (!read) return 0;
  return nameEntries(read.entries.filter((e) => e.phase === phase)).observations.find((o) => o.syscall === syscall && o.arch === 'x86_64')?.count ?? 0;
}

t.test('the exec cut: a self-copy exec from a descriptor stays runtime, the next exec by path starts the workload', { skip }, async (t) => {
  const p = BpfPrograms.open();
  t.teardown(() => p.close());
  const cg = freshCgroup(t);
  p.add(cg.id);
  const bin = fixture('reexec');
  const r = spawnSync(bin, [`${cg.dir}/cgroup.procs`], { stdio: 'ignore', timeout: 20000 });
  t.equal(r.status, 0, 'the fixture ran its three stages');
  const read = p.read(cg.id);
  t.ok(read?.workloadStarted, 'the workload started');
  const runtime = names(read, 'runtime');
  const workload = names(read, 'workload');
  t.ok(runtime.includes('execveat'), 'the descriptor exec is the runtime\'s');
  t.ok(runtime.includes('getcwd'), 'stage 2 (after the descriptor exec) is still runtime');
  t.notOk(workload.includes('getcwd'), 'no runtime call leaks into the workload');
  t.ok(workload.includes('uname'), 'the workload\'s own call');
  t.notOk(runtime.includes('uname'), '...is not the runtime\'s');
  t.equal(count(read, 'workload', 'execve'), 1, 'the entrypoint exec counted once for the workload');
  t.equal(count(read, 'workload', 'uname'), 1, 'uname counted exactly once');
  t.equal(count(read, 'workload', 'getcwd'), 0);
  t.not(read?.workloadTgid, 0, 'the task that started the workload is kept');
});

t.test('cgroups are recorded apart, and a cgroup never added is not recorded', { skip }, async (t) => {
  const p = BpfPrograms.open();
  t.teardown(() => p.close());
  const a = freshCgroup(t);
  const b = freshCgroup(t);
  const c = freshCgroup(t);
  p.add(a.id);
  p.add(b.id);
  const bin = fixture('reexec');
  // Both run at the same time: each sleeps so their lifetimes overlap.
  const both = await Promise.all([
    runInAsync(a, ['sh', '-c', `sleep 0.3; exec ${bin} --workload`]),
    runInAsync(b, ['sh', '-c', 'sleep 0.3; true']),
  ]);
  runIn(c, [bin, '--workload']);
  t.same(both, [0, 0]);
  t.ok(names(p.read(a.id), 'workload').includes('uname'), 'a: uname');
  t.notOk(names(p.read(b.id), 'workload').includes('uname'), 'b: no uname (a\'s call stays in a)');
  t.equal(p.read(c.id), null, 'c was never added: nothing kept');
  t.same(p.list().cgroups.map(String).sort(), [a.id, b.id].map(String).sort(), 'only the added cgroups are in the map');
  p.forget(a.id);
  t.equal(p.read(a.id), null, 'forget drops the cgroup');
});

t.test('argument values are kept, bounded at 64 per syscall with the overflow marked', { skip }, async (t) => {
  const p = BpfPrograms.open();
  t.teardown(() => p.close());
  const few = freshCgroup(t);
  const many = freshCgroup(t);
  p.add(few.id);
  p.add(many.id);
  t.equal(runIn(few, [fixture('argflood'), '3']), 0);
  t.equal(runIn(many, [fixture('argflood'), '100']), 0);
  const prctl = (cg: PrivateCgroup) => nameEntries(p.read(cg.id)!.entries.filter((e) => e.phase === 'workload')).observations.find((o) => o.syscall === 'prctl');
  const a = prctl(few);
  t.same(a?.args?.values.filter((v) => v[0].startsWith('0x5e')).sort(), [['0x5e000'], ['0x5e001'], ['0x5e002']], 'the three options');
  t.equal(a?.args?.overflowed, false);
  t.equal(a?.count, 3, 'each call counted');
  const b = prctl(many);
  t.equal(b?.count, 100, 'every call counted, past the bound too');
  t.equal(b?.args?.values.length, 64, 'values bounded at 64');
  t.equal(b?.args?.overflowed, true, 'overflow marked, never silent');
});

t.test('agent mode: any cgroup not ignored is recorded from its first call; ignored ones and a full map are accounted', { skip }, async (t) => {
  const p = BpfPrograms.open({ auto: true, maxCgroups: 2 });
  t.teardown(() => p.close());
  // Everything running now (this test included) is ignored, as the agent ignores the node's own cgroups.
  for (const id of p.list().cgroups) p.ignore(id);
  for (const id of p.list().cgroups) p.forget(id);
  const seen = freshCgroup(t);
  const hidden = freshCgroup(t);
  p.ignore(hidden.id);
  t.equal(runIn(seen, [fixture('reexec'), '--workload']), 0);
  t.equal(runIn(hidden, [fixture('reexec'), '--workload']), 0);
  t.ok(names(p.read(seen.id), 'workload').includes('uname'), 'recorded without being added');
  t.equal(p.read(hidden.id), null, 'an ignored cgroup is not recorded');
  // Fill the map (maxCgroups 2) and see the overflow counted.
  const extra = [freshCgroup(t), freshCgroup(t), freshCgroup(t)];
  for (const cg of extra) runIn(cg, ['true']);
  const { cgroups, cgroupsFull } = p.list();
  t.ok(cgroups.length <= 2, 'the map holds at most maxCgroups');
  t.ok(cgroupsFull > 0, `calls from cgroups that found the map full are counted (${cgroupsFull})`);
});

t.test('a closed source refuses further use with a clear error', { skip }, async (t) => {
  const p = BpfPrograms.open();
  p.close();
  p.close();
  t.throws(() => p.list(), /closed/);
});
