// validate's checks, one case per test, with the exact message a user sees; and
// the compile path (runc's rules) through libseccomp itself, never loaded.
import t from 'tap';
import { checkAgainstBaseline } from '../src/profile/against-baseline.js';
import type { Finding } from '../src/profile/lint.js';
import { lintProfile } from '../src/profile/lint.js';
import type { Profile } from '../src/profile/model.js';
import { parseOciProfile } from '../src/profile/oci.js';
import { validateProfileText } from '../src/profile/validate.js';
import { complainProfile } from '../src/run/enforce.js';
import { compileProfile } from '../src/seccomp/compile.js';
import { resolveNames } from '../src/seccomp/name-report.js';
import { runcRuleAdds } from '../src/seccomp/runc-policy.js';
import { archToken, libseccompVersion } from '../src/seccomp/libseccomp.js';

const isX86 = process.arch === 'x64';

function profile(doc: Record<string, unknown>): Profile {
  return parseOciProfile(JSON.stringify({ architectures: ['SCMP_ARCH_X86_64'], ...doc }), 'test.json');
}

const lines = (list: Finding[]) => list.map((f) => `${f.severity}: ${f.path}: ${f.message}`);

t.test('a rule whose action equals the default: warning, and runc skips it', async (t) => {
  const p = profile({
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    syscalls: [
      { names: ['read'], action: 'SCMP_ACT_ALLOW' },
      { names: ['mount', 'umount2'], action: 'SCMP_ACT_ERRNO' },
    ],
  });
  t.same(lines(lintProfile(p)), [
    'warning: syscalls[1]: action SCMP_ACT_ERRNO(EPERM) equals the default action: libseccomp refuses such a rule (EACCES) and runc drops it silently',
  ]);
  t.same(
    runcRuleAdds(p).filter((a) => a.equalsDefault).map((a) => a.name),
    ['mount', 'umount2'],
  );
  t.same(compileProfile(p).problems, [], 'compiling skips it instead of failing with EACCES');
});

t.test('errno values: default ERRNO uses defaultErrnoRet, a rule without errnoRet gets EPERM (as runc)', async (t) => {
  const p = profile({
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 38,
    syscalls: [
      { names: ['read'], action: 'SCMP_ACT_ALLOW', errnoRet: 5 },
      { names: ['mount'], action: 'SCMP_ACT_ERRNO' },
    ],
  });
  t.same(lines(lintProfile(p)), [
    'warning: syscalls[0].errnoRet: ignored: SCMP_ACT_ALLOW returns no errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE use it)',
    'warning: syscalls[1]: SCMP_ACT_ERRNO without errnoRet returns EPERM, not the defaultErrnoRet (ENOSYS): runc applies defaultErrnoRet to the default action only',
  ]);
  const pfc = compileProfile(p, { pfc: true }).pfc!;
  t.match(pfc, /filter for syscall "mount" \(\d+\)[^\n]*\n\s+if \(\$syscall == \d+\)\n\s+action ERRNO\(1\);/, 'mount gets EPERM');
  t.match(pfc, /# default action\n\s+action ERRNO\(38\);/, 'default gets ENOSYS');
});

t.test('defaultErrnoRet with a default action that returns no errno: warning', async (t) => {
  const p = profile({ defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 1, syscalls: [{ names: ['mount'], action: 'SCMP_ACT_ERRNO' }] });
  t.same(lines(lintProfile(p)), [
    'warning: defaultErrnoRet: ignored: the default action SCMP_ACT_ALLOW returns no errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE use it)',
  ]);
});

t.test('two unconditional rules for one syscall with different actions: the later one is dead', async (t) => {
  const p = profile({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['flock', 'read'], action: 'SCMP_ACT_ALLOW' },
      { names: ['flock', 'lseek'], action: 'SCMP_ACT_KILL_PROCESS' },
    ],
  });
  t.same(lines(lintProfile(p)), [
    'warning: syscalls[1]: flock also matched unconditionally by syscalls[0] with another action (SCMP_ACT_KILL_PROCESS here, SCMP_ACT_ALLOW there); libseccomp keeps the first rule and drops this one silently',
  ]);
  t.match(compileProfile(p, { pfc: true }).pfc!, /"flock" \(\d+\)[^\n]*\n\s+if[^\n]*\n\s+action ALLOW;/, 'libseccomp indeed kept ALLOW');
});

t.test('a conditional rule shadowed by an unconditional one for the same syscall: warning', async (t) => {
  const p = profile({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['personality'], action: 'SCMP_ACT_LOG', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW' },
    ],
  });
  t.same(lines(lintProfile(p)), [
    'warning: syscalls[0]: the conditions on personality never take effect: syscalls[1] matches every call of it (SCMP_ACT_ALLOW), and libseccomp lets an unconditional rule replace conditional ones',
  ]);
});

t.test('the same conditions with different actions: error, libseccomp refuses it', async (t) => {
  const p = profile({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['ioctl'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: 21505, op: 'SCMP_CMP_EQ' }] },
      { names: ['ioctl'], action: 'SCMP_ACT_LOG', args: [{ index: 1, value: 21505, op: 'SCMP_CMP_EQ' }] },
    ],
  });
  t.same(lines(lintProfile(p)), [
    'error: syscalls[1]: ioctl with the same conditions as syscalls[0] but another action (SCMP_ACT_LOG here, SCMP_ACT_ALLOW there); libseccomp refuses it (EEXIST) and runc fails to start the container',
  ]);
  t.same(compileProfile(p).problems, [{ path: 'syscalls[1]', message: 'ioctl: seccomp_rule_add_array failed: EEXIST' }], 'libseccomp agrees');
});

t.test('conflicting conditions on one argument: error; satisfiable ones: warning (runc ORs them)', async (t) => {
  const how = 'runc does not AND them: it adds each condition of this rule as a rule of its own, so any one of them matching is enough';
  const p = profile({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      {
        names: ['personality'],
        action: 'SCMP_ACT_ALLOW',
        args: [
          { index: 0, value: 0, op: 'SCMP_CMP_EQ' },
          { index: 0, value: 8, op: 'SCMP_CMP_EQ' },
        ],
      },
      {
        names: ['socket'],
        action: 'SCMP_ACT_ALLOW',
        args: [
          { index: 0, value: 1, op: 'SCMP_CMP_GE' },
          { index: 0, value: 10, op: 'SCMP_CMP_LE' },
          { index: 1, value: 2, op: 'SCMP_CMP_EQ' },
        ],
      },
      { names: ['mmap'], action: 'SCMP_ACT_ALLOW', args: [{ index: 3, value: 255, valueTwo: 256, op: 'SCMP_CMP_MASKED_EQ' }] },
    ],
  });
  t.same(lines(lintProfile(p)), [
    `error: syscalls[0].args: conditions on argument 0 cannot all hold (arg0 SCMP_CMP_EQ 0, arg0 SCMP_CMP_EQ 8); ${how}`,
    'error: syscalls[2].args[0]: SCMP_CMP_MASKED_EQ never matches: valueTwo 0x100 has bits outside the mask 0xff',
    `warning: syscalls[1].args: 2 conditions on argument 0 (arg0 SCMP_CMP_GE 1, arg0 SCMP_CMP_LE 10); ${how}`,
  ]);
  const socket = runcRuleAdds(p).filter((a) => a.name === 'socket');
  t.equal(socket.length, 3, 'runc: one rule per condition, the arg1 condition included');
  t.ok(socket.every((a) => a.split && a.conditions.length === 1));
  // What runc does, seen in libseccomp's own output: personality 0 OR 8.
  const pfc = compileProfile(p, { pfc: true }).pfc!;
  t.match(pfc, /\$a0\.lo32 == 8\)\n\s+action ALLOW;\n\s+if \(\$a0\.lo32 == 0\)\n\s+action ALLOW;/);
});

t.test('NOTIFY without listenerPath, listenerPath without NOTIFY, NOTIFY on write, NOTIFY as default', async (t) => {
  const a = profile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['flock'], action: 'SCMP_ACT_NOTIFY' }] });
  t.same(lines(lintProfile(a)), [
    'error: listenerPath: missing, but syscalls[0] uses SCMP_ACT_NOTIFY: runc fails to start the container ("seccomp listenerPath is not set")',
  ]);
  const b = profile({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock', syscalls: [{ names: ['mount'], action: 'SCMP_ACT_ERRNO' }] });
  t.same(lines(lintProfile(b)), ['warning: listenerPath: set, but nothing uses SCMP_ACT_NOTIFY: no runtime will ever connect to it']);
  const c = profile({
    defaultAction: 'SCMP_ACT_ALLOW',
    listenerPath: '/run/agent.sock',
    syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_NOTIFY' }],
  });
  t.same(lines(lintProfile(c)), [
    'error: syscalls[0]: SCMP_ACT_NOTIFY on write: runc refuses it ("SCMP_ACT_NOTIFY cannot be used for the write syscall"), it needs write to hand the listener over',
  ]);
  const d = profile({ defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/run/agent.sock', syscalls: [{ names: ['write'], action: 'SCMP_ACT_ALLOW' }] });
  t.same(lines(lintProfile(d)), [
    'error: defaultAction: SCMP_ACT_NOTIFY as the default action: runc refuses it ("SCMP_ACT_NOTIFY cannot be used as default action"); use a NOTIFY rule that names the syscalls instead',
  ]);
});

t.test('names: unknown everywhere in an allow rule and absent on one arch are warnings naming them; per-arch counts', async (t) => {
  const text = JSON.stringify({
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'],
    syscalls: [{ names: ['read', 'open', 'arch_prctl', 'newfstatat', 'socket', 'no_such_call'], action: 'SCMP_ACT_ALLOW' }],
  });
  const { report, bpf } = validateProfileText(text, 'p.json', { arches: ['x86_64', 'aarch64', 'x86'] });
  t.equal(report.valid, true);
  t.ok(bpf, 'skipping the unknown name only makes the filter stricter: valid, with a program');
  t.same(lines(report.errors), []);
  t.same(lines(report.warnings), [
    'warning: architectures: aarch64 lacks 2 named syscalls (rules for them do nothing there): arch_prctl, open',
    'warning: architectures: x86 lacks 1 named syscall (rules for it do nothing there): newfstatat',
    'warning: syscalls[0].names[5]: "no_such_call" not allowed here: libseccomp 2.5.4 does not know it (runc skips the name, so the default errno applies: stricter than written)',
  ]);
  t.same(report.names?.perArch, [
    { arch: 'x86_64', resolved: 5, absent: 0 },
    { arch: 'aarch64', resolved: 3, absent: 2 },
    { arch: 'x86', resolved: 4, absent: 1 },
  ]);
});

t.test('socket on x86 reaches the filter through socketcall: not reported absent', async (t) => {
  const p = profile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['socket', 'bind'], action: 'SCMP_ACT_ALLOW' }] });
  const names = resolveNames(p, ['x86', 's390x', 'x86_64']);
  t.same(names.perArch.map((a) => [a.arch, a.resolved, a.absent]), [
    ['x86', 2, []],
    ['s390x', 2, []],
    ['x86_64', 2, []],
  ]);
});

t.test('--arch without the native arch removes it from the filter; default is native plus the profile\'s', { skip: !isX86 && 'x86_64 only' }, async (t) => {
  const p = profile({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_AARCH64'], syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] });
  const def = compileProfile(p, { pfc: true });
  t.same(def.arches, ['x86_64', 'aarch64'], 'runc never removes the native arch');
  t.match(def.pfc!, /filter for arch x86_64/);
  const only = compileProfile(p, { arches: ['aarch64'], pfc: true });
  t.same(only.arches, ['aarch64']);
  t.notMatch(only.pfc!, /filter for arch x86_64/);
  t.ok(only.instructions < def.instructions);
});

t.test('a runtime flag this libseccomp cannot set: warning', async (t) => {
  const text = JSON.stringify({
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64'],
    flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
    syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }],
  });
  const { report } = validateProfileText(text, 'p.json');
  t.same(lines(report.warnings), [
    'warning: flags[1]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: this libseccomp cannot set it (EINVAL); runc refuses the profile with this libseccomp',
  ]);
  t.equal(report.valid, true);
});

t.test('against a baseline: what the profile allows that the baseline denies', async (t) => {
  const baseline = profile({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
      { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
      { names: ['kexec_load'], action: 'SCMP_ACT_KILL_PROCESS' },
    ],
  });
  const p = profile({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['read', 'mount', 'reboot'], action: 'SCMP_ACT_ALLOW' },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
      { names: ['socket'], action: 'SCMP_ACT_LOG' },
      { names: ['ptrace'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    ],
  });
  t.same(lines(checkAgainstBaseline(p, baseline)), [
    'warning: syscalls[0]: allows mount, reboot with any arguments (SCMP_ACT_ALLOW), which the baseline denies',
    'warning: syscalls[2]: allows personality when arg0 SCMP_CMP_EQ 8 (SCMP_ACT_ALLOW), which the baseline denies',
    'warning: syscalls[3]: allows socket with any arguments (SCMP_ACT_LOG); the baseline allows it only with certain arguments',
  ]);
  const open = profile({ defaultAction: 'SCMP_ACT_LOG', syscalls: [{ names: ['mount'], action: 'SCMP_ACT_ERRNO' }] });
  t.same(lines(checkAgainstBaseline(open, baseline)), [
    'warning: defaultAction: SCMP_ACT_LOG allows every syscall no rule names; the baseline denies those by default (SCMP_ACT_ERRNO(EPERM)), and denies explicitly: kexec_load',
  ]);
  t.same(checkAgainstBaseline(baseline, baseline), [], 'the baseline against itself: nothing');
});

t.test('schema errors: every problem at once, by JSON path; SPO paths under spec', async (t) => {
  const text = JSON.stringify({
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [
      { names: ['read'], action: 'SCMP_ACT_ALLOW' },
      { names: ['write'], action: 'SCMP_ACT_ALOW' },
      { names: ['close'], action: 'SCMP_ACT_ALLOW' },
      { names: ['fstat'], action: 'SCMP_ACT_ALLOW', args: [{ index: 9, value: 1, op: 'SCMP_CMP_EQ' }] },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQUAL' }] },
    ],
  });
  const { report } = validateProfileText(text, 'p.json');
  t.same(lines(report.errors), [
    'error: syscalls[1].action: unknown action "SCMP_ACT_ALOW"',
    'error: syscalls[3].args[0].index: expected an integer from 0 to 5, got 9',
    'error: syscalls[4].args[0].op: unknown operator "SCMP_CMP_EQUAL"',
  ]);
  const spo = [
    'apiVersion: security-profiles-operator.x-k8s.io/v1beta1',
    'kind: SeccompProfile',
    'metadata: {name: app}',
    'spec:',
    '  defaultAction: SCMP_ACT_ERRNO',
    '  architectures: [SCMP_ARCH_X86_64]',
    '  syscalls:',
    '  - {names: [read, write], action: SCMP_ACT_ALLOW}',
    '  - {names: [mount], action: SCMP_ACT_ERRNO}',
    '',
  ].join('\n');
  const r2 = validateProfileText(spo, 'p.yaml').report;
  t.equal(r2.format, 'spo');
  t.equal(r2.valid, true);
  t.same(lines(r2.warnings), [
    'warning: spec.syscalls[1]: action SCMP_ACT_ERRNO(EPERM) equals the default action: libseccomp refuses such a rule (EACCES) and runc drops it silently',
  ]);
});

t.test('complain mode turns every denying action into NOTIFY and keeps the rest', async (t) => {
  const p = profile({
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    syscalls: [
      { names: ['read'], action: 'SCMP_ACT_ALLOW' },
      { names: ['uname'], action: 'SCMP_ACT_LOG' },
      { names: ['kexec_load'], action: 'SCMP_ACT_KILL_PROCESS' },
      { names: ['ptrace'], action: 'SCMP_ACT_TRAP' },
      { names: ['mount'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    ],
  });
  const c = complainProfile(p);
  t.same(c.defaultAction, { kind: 'notify' });
  t.equal(c.defaultErrnoRet, undefined);
  t.same(
    c.rules.map((r) => [r.names[0], r.action.kind]),
    [
      ['read', 'allow'],
      ['uname', 'log'],
      ['kexec_load', 'notify'],
      ['ptrace', 'notify'],
      ['mount', 'notify'],
    ],
  );
  t.same(p.defaultAction, { kind: 'errno' }, 'the input is not changed');
});

t.test('architectures libseccomp cannot combine or does not know: errors, as runc would fail', { skip: !isX86 && 'x86_64 only' }, async (t) => {
  const mixed = JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_S390X'], syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] });
  const r = validateProfileText(mixed, 'p.json').report;
  t.same(lines(r.errors), [
    'error: architectures: seccomp_arch_add(s390x) failed: EDOM (libseccomp cannot hold s390x in one filter with x86_64: another byte order)',
  ]);
  t.same(validateProfileText(mixed, 'p.json', { arches: ['s390x'] }).report.errors, [], 'alone, s390x compiles');
  if (archToken('loongarch64') === undefined) {
    const loong = JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_LOONGARCH64'], syscalls: [] });
    t.same(lines(validateProfileText(loong, 'p.json').report.errors), [
      `error: architectures: libseccomp ${libseccompVersion()} does not know the architecture loongarch64: runc fails to start the container`,
    ]);
  }
});
