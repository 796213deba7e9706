// `validate` through the built CLI: installed runtime defaults and recorded
// profiles validate; the BPF written by --bpf is byte for byte what a C program
// building the same filter with libseccomp exports; names match
// scmp_sys_resolver; exit codes 0/1/2 and the --json shape.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from './helpers/cli.js';
import { fixture, hasCommand } from './helpers/fixtures.js';
import { sharedTempDir } from './helpers/tmp.js';

const CONTAINERS_DEFAULT = '/usr/share/containers/seccomp.json';
const isX86 = process.arch === 'x64';
const noGcc = hasCommand('gcc') ? false : 'gcc is not installed (apt-get install gcc)';
const noLibseccompDev = existsSync('/usr/include/seccomp.h') ? false : 'libseccomp-dev is not installed (apt-get install libseccomp-dev)';

// Profile A: every action, errno values, a rule equal to the default, a split
// rule (two conditions on one argument), masked-eq, a 64-bit value, a name
// absent on x86_64 (socketcall). Its C twin is test/fixtures/bpf-reference.c.
const PROFILE_A = `{
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 38,
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  "listenerPath": "/run/agent.sock",
  "syscalls": [
    { "names": ["read", "write", "exit_group", "flock", "socketcall"], "action": "SCMP_ACT_ALLOW" },
    { "names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38 },
    { "names": ["mount", "umount2"], "action": "SCMP_ACT_ERRNO" },
    { "names": ["personality"], "action": "SCMP_ACT_ALLOW",
      "args": [{ "index": 0, "value": 1, "op": "SCMP_CMP_GE" }, { "index": 0, "value": 10, "op": "SCMP_CMP_LE" }] },
    { "names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 97,
      "args": [{ "index": 0, "value": 40, "op": "SCMP_CMP_EQ" }, { "index": 1, "value": 255, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ" }] },
    { "names": ["mmap"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 2, "value": 18446744073709551615, "op": "SCMP_CMP_NE" }] },
    { "names": ["kexec_load"], "action": "SCMP_ACT_KILL_PROCESS" },
    { "names": ["ptrace"], "action": "SCMP_ACT_TRAP" },
    { "names": ["uname"], "action": "SCMP_ACT_LOG" },
    { "names": ["reboot"], "action": "SCMP_ACT_TRACE" },
    { "names": ["swapon"], "action": "SCMP_ACT_KILL" },
    { "names": ["io_uring_setup"], "action": "SCMP_ACT_NOTIFY" }
  ]
}
`;

// Profile B: 40 names, so runc turns libseccomp's binary tree on.
const NAMES_B = [
  'accept4', 'access', 'arch_prctl', 'bind', 'brk', 'clock_gettime', 'clone', 'close', 'connect', 'dup2',
  'epoll_create1', 'epoll_ctl', 'epoll_wait', 'execve', 'exit', 'exit_group', 'fcntl', 'fstat', 'futex', 'getdents64',
  'getpid', 'getrandom', 'getsockname', 'ioctl', 'listen', 'lseek', 'madvise', 'mmap', 'mprotect', 'munmap',
  'newfstatat', 'openat', 'pipe2', 'poll', 'pread64', 'read', 'recvfrom', 'rt_sigaction', 'rt_sigprocmask', 'sendto',
];
const PROFILE_B = JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: NAMES_B, action: 'SCMP_ACT_ALLOW' }] });

function reference(kase: string, dir: string): Buffer {
  const bin = fixture('bpf-reference', ['-lseccomp']);
  const out = join(dir, `ref-${kase}.bpf`);
  execFileSync(bin, [kase, out]);
  return readFileSync(out);
}

t.test('--bpf writes exactly what libseccomp exports for the same filter built in C (runc\'s rules)', { skip: noGcc || noLibseccompDev || (!isX86 && 'the reference is written for x86_64') }, async (t) => {
  const dir = sharedTempDir('validate-cli', t);
  const a = join(dir, 'a.json');
  const b = join(dir, 'b.json');
  writeFileSync(a, PROFILE_A);
  writeFileSync(b, PROFILE_B);
  const cases: [string, string, string[]][] = [
    ['a', a, []],
    ['a-aarch64', a, ['--arch', 'aarch64']],
    ['a-x86_64-aarch64', a, ['--arch', 'x86_64,aarch64']],
    ['b', b, []],
  ];
  for (const [kase, file, extra] of cases) {
    const out = join(dir, `${kase}.bpf`);
    const r = await runCli(['validate', file, '--bpf', out, ...extra]);
    t.equal(r.code, 0, `${kase}: valid\n${r.stdout}${r.stderr}`);
    const ours = readFileSync(out);
    const ref = reference(kase, dir);
    t.ok(ours.length > 0 && ours.length % 8 === 0, `${kase}: whole sock_filter instructions`);
    t.ok(ours.equals(ref), `${kase}: ${ours.length} bytes, same as the C reference (${ref.length})`);
    t.match(r.stdout, `BPF: ${ours.length / 8} instructions (${ours.length} bytes)`, `${kase}: size reported`);
  }
});

t.test('the PFC names each syscall with the number scmp_sys_resolver gives on that arch', { skip: hasCommand('scmp_sys_resolver') ? false : 'scmp_sys_resolver is missing (apt-get install seccomp)' }, async (t) => {
  const dir = sharedTempDir('validate-cli', t);
  const a = join(dir, 'a.json');
  writeFileSync(a, PROFILE_A);
  const r = await runCli(['validate', a, '--arch', 'x86_64,x86,aarch64', '--pfc', '-']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /a\.json: valid \(OCI JSON\), 0 errors, \d+ warnings?\n/, 'the report moves to stderr');
  const sections = new Map<string, string>();
  for (const part of r.stdout.split(/# filter for arch /).slice(1)) sections.set(part.split(' ')[0], part);
  t.same([...sections.keys()], ['x86_64', 'x86', 'aarch64']);
  for (const arch of ['x86_64', 'x86', 'aarch64']) {
    for (const name of ['flock', 'mount', 'uname', 'mmap']) {
      const nr = execFileSync('scmp_sys_resolver', ['-a', arch, name], { encoding: 'utf8' }).trim();
      t.match(sections.get(arch)!, `filter for syscall "${name}" (${nr})`, `${arch}/${name} = ${nr}`);
    }
  }
  t.notMatch(sections.get('x86_64')!, /syscall "getpid"/, 'a rule equal to the default is not in the filter');
});

t.test("containers-common's default validates (resolved for this machine)", { skip: existsSync(CONTAINERS_DEFAULT) ? false : `${CONTAINERS_DEFAULT} is missing (apt-get install golang-github-containers-common)` }, async (t) => {
  const r = await runCli(['validate', CONTAINERS_DEFAULT]);
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.match(r.stdout, /^\/usr\/share\/containers\/seccomp\.json: valid \(OCI JSON\), 0 errors, /);
  t.match(r.stdout, /warning: uses Docker-style conditional fields \(includes\/excludes\/archMap\)/);
  const j = await runCli(['validate', '--json', CONTAINERS_DEFAULT]);
  t.equal(j.code, 0);
  const report = JSON.parse(j.stdout);
  t.equal(report.valid, true);
  t.same(report.errors, []);
  t.same(report.resolvedFor.arches, isX86 ? ['x86_64', 'x86', 'x32'] : report.resolvedFor.arches);
  t.ok(report.bpf.instructions > 100 && report.bpf.instructions <= 4096, `${report.bpf.instructions} instructions`);
});

t.test('a moby-shaped default (includes/excludes, archMap) validates once resolved', { skip: !isX86 && 'x86_64 only' }, async (t) => {
  const dir = sharedTempDir('validate-cli', t);
  const file = join(dir, 'moby.json');
  writeFileSync(
    file,
    JSON.stringify({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 1,
      archMap: [
        { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
        { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
      ],
      syscalls: [
        { names: ['read', 'write', 'exit_group', 'execve', 'brk', 'mmap'], action: 'SCMP_ACT_ALLOW' },
        { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
        { names: ['set_tls'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm', 'arm64'] } },
        { names: ['chroot'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_CHROOT'] } },
        { names: ['mount', 'umount2'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
        { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { caps: ['CAP_SYS_ADMIN'] } },
        { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
      ],
    }),
  );
  const r = await runCli(['validate', file, '--pfc', join(dir, 'moby.pfc')]);
  t.equal(r.code, 0, r.stdout + r.stderr);
  const pfc = readFileSync(join(dir, 'moby.pfc'), 'utf8');
  for (const n of ['arch_prctl', 'chroot', 'ptrace', 'clone3', 'personality']) t.match(pfc, `syscall "${n}"`, `${n} is in the resolved filter`);
  for (const n of ['mount', 'umount2']) t.notMatch(pfc, `syscall "${n}"`, `${n} needs CAP_SYS_ADMIN, which Docker does not grant`);
  t.match(pfc, /filter for arch x86 /, 'sub-arches from archMap are in the filter');
});

t.test('a profile made by `record -- true` validates with no findings', async (t) => {
  const dir = sharedTempDir('validate-cli', t);
  const p = join(dir, 'true.json');
  const rec = await runCli(['record', '-q', '-o', p, '--', 'true']);
  t.equal(rec.code, 0, rec.stderr);
  const r = await runCli(['validate', p]);
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.match(r.stdout, new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: valid \\(OCI JSON\\), 0 errors, 0 warnings\n`));
});

t.test('schema errors: all of them, by path, exit 1; --bpf not written', async (t) => {
  const dir = sharedTempDir('validate-cli', t);
  const file = join(dir, 'bad.json');
  writeFileSync(
    file,
    JSON.stringify({
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_VAX'],
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_ALLOW' },
        { names: ['write'], action: 'SCMP_ACT_ALLOWED' },
        { names: ['close'], action: 'SCMP_ACT_ALLOW' },
        { names: ['fstat'], action: 'SCMP_ACT_ALLOW' },
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQUAL' }] },
      ],
    }),
  );
  const out = join(dir, 'out.bpf');
  const r = await runCli(['validate', file, '--bpf', out]);
  t.equal(r.code, 1);
  t.equal(
    r.stdout,
    `${file}: invalid, 3 errors, 0 warnings\n` +
      '  error: architectures[1]: unknown architecture "SCMP_ARCH_VAX"\n' +
      '  error: syscalls[1].action: unknown action "SCMP_ACT_ALLOWED"\n' +
      '  error: syscalls[4].args[0].op: unknown operator "SCMP_CMP_EQUAL"\n',
  );
  t.equal(r.stderr, `seccomp-recorder: ${out} not written: the profile is invalid\n`);
  t.same(readdirSync(dir), ['bad.json'], 'no output, not even a temp file');
});

t.test('lint errors make it invalid; --json carries every finding in a stable shape', async (t) => {
  const dir = sharedTempDir('validate-cli', t);
  const file = join(dir, 'notify.json');
  writeFileSync(file, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['write'], action: 'SCMP_ACT_NOTIFY' }] }));
  const r = await runCli(['validate', '--json', file]);
  t.equal(r.code, 1);
  const report = JSON.parse(r.stdout);
  t.same(Object.keys(report), ['file', 'format', 'valid', 'libseccomp', 'architectures', 'names', 'bpf', 'errors', 'warnings']);
  t.equal(report.valid, false);
  t.same(report.errors, [
    {
      severity: 'error',
      path: 'listenerPath',
      message: 'missing, but syscalls[0] uses SCMP_ACT_NOTIFY: runc fails to start the container ("seccomp listenerPath is not set")',
      code: 'notify-without-listener',
    },
    {
      severity: 'error',
      path: 'syscalls[0]',
      message: 'SCMP_ACT_NOTIFY on write: runc refuses it ("SCMP_ACT_NOTIFY cannot be used for the write syscall"), it needs write to hand the listener over',
      code: 'notify-write',
    },
  ]);
});

t.test('--strict fails on warnings; --against-baseline warns for what the default would deny', { skip: existsSync(CONTAINERS_DEFAULT) ? false : `${CONTAINERS_DEFAULT} is missing` }, async (t) => {
  const dir = sharedTempDir('validate-cli', t);
  const file = join(dir, 'loose.json');
  writeFileSync(file, JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['read', 'kexec_load'], action: 'SCMP_ACT_ALLOW' }] }));
  const plain = await runCli(['validate', file]);
  t.equal(plain.code, 0);
  const r = await runCli(['validate', file, '--against-baseline', CONTAINERS_DEFAULT]);
  t.equal(r.code, 0, 'warnings only');
  t.match(r.stdout, '  warning: syscalls[0]: allows kexec_load with any arguments (SCMP_ACT_ALLOW), which the baseline denies\n');
  const strict = await runCli(['validate', '--strict', file, '--against-baseline', CONTAINERS_DEFAULT]);
  t.equal(strict.code, 1);
  t.match(strict.stdout, /: invalid \(OCI JSON\), 0 errors, 1 warning\n/);
});

t.test('SPO YAML from stdin', async (t) => {
  const yaml = [
    'apiVersion: security-profiles-operator.x-k8s.io/v1',
    'kind: SeccompProfile',
    'metadata: {name: app}',
    'spec:',
    '  defaultAction: SCMP_ACT_ERRNO',
    '  architectures: [SCMP_ARCH_X86_64]',
    '  syscalls:',
    '  - {names: [read, write, exit_group], action: SCMP_ACT_ALLOW}',
    '',
  ].join('\n');
  const r = await runCli(['validate', '-'], { input: yaml });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^<stdin>: valid \(SPO SeccompProfile\), 0 errors, 0 warnings\n/);
});

t.test('usage and I/O errors exit 2', async (t) => {
  const dir = sharedTempDir('validate-cli', t);
  const good = join(dir, 'p.json');
  writeFileSync(good, JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [] }));
  const missing = await runCli(['validate', join(dir, 'nope.json')]);
  t.equal(missing.code, 2);
  t.equal(missing.stderr, `error: ${join(dir, 'nope.json')}: cannot read: no such file\n`);
  const arch = await runCli(['validate', good, '--arch', 'vax']);
  t.equal(arch.code, 2);
  t.equal(arch.stderr, 'error: --arch: unknown architecture "vax" (use libseccomp names such as x86_64, aarch64, x86)\n');
  const both = await runCli(['validate', good, '--json', '--pfc', '-']);
  t.equal(both.code, 2);
  t.equal(both.stderr, 'error: --pfc - and --json both want stdout; write the PFC to a file\n');
  const base = await runCli(['validate', good, '--against-baseline', join(dir, 'nope.json')]);
  t.equal(base.code, 2);
  const none = await runCli(['validate']);
  t.equal(none.code, 2);
  t.match(none.stderr, /missing required argument 'profile'/);
});
