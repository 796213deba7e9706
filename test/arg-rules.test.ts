// Argument conditions without the kernel: per-arch positions, which levels
// restrict what, one rule per value (never two conditions on one argument),
// intersection with a baseline's conditions, clone3, the risk report, the
// names explain prints, and the per-argument value sets diff shows.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { DOCKER_DEFAULT_CAPS, loadBaseline, resolveBaseline, rulesFor } from '../src/profile/baseline.js';
import { argRisks, describeAllowedValues, valueSetChanges } from '../src/profile/arg-report.js';
import { intersectWithBaseline, mergeRecordedArgs, planFor } from '../src/profile/arg-rules.js';
import { valueName, valueOf } from '../src/profile/arg-names.js';
import { canonicalProfile, treatmentOf } from '../src/profile/canonical.js';
import type { RecordingInput } from '../src/profile/generate.js';
import { generateProfile } from '../src/profile/generate.js';
import type { Observation } from '../src/profile/recording.js';
import { parseRecording } from '../src/profile/recording.js';
import { argPosition, argPositionOnAll, multiplexedOn } from '../src/seccomp/arg-positions.js';
import { runcRuleAdds } from '../src/seccomp/runc-policy.js';

const ARGS = new URL('./fixtures/args/', import.meta.url).pathname;
const DEFAULTS = new URL('./fixtures/runtime-defaults/', import.meta.url).pathname;
const rec = (name: string): RecordingInput => {
  const file = `${ARGS}${name}`;
  return { file, recording: parseRecording(readFileSync(file, 'utf8'), file) };
};
const obs = (syscall: string, names: string[], values: string[][], extra: Partial<Observation> = {}): Observation => ({
  arch: 'x86_64',
  syscall,
  nr: 0,
  count: 1,
  args: { names, values, overflowed: false },
  ...extra,
});

t.test('clone flags sit at argument 1 on s390 and s390x only; one rule cannot serve both layouts', async (t) => {
  t.equal(argPosition('clone', 'flags', 'x86_64'), 0);
  t.equal(argPosition('clone', 'flags', 'aarch64'), 0);
  t.equal(argPosition('clone', 'flags', 's390x'), 1);
  t.equal(argPosition('clone', 'flags', 's390'), 1);
  t.equal(argPositionOnAll('clone', 'flags', ['s390x', 's390']), 1);
  t.equal(argPositionOnAll('clone', 'flags', ['x86_64', 's390x']), undefined);
  t.equal(argPosition('ioctl', 'request', 'x86_64'), 1);
  t.equal(argPosition('setsockopt', 'optname', 'aarch64'), 2);
  // The moby default says the same of clone (its s390 rule compares index 1).
  const moby = JSON.parse(readFileSync(`${DEFAULTS}moby-default.json`, 'utf8'));
  const s390Clone = moby.syscalls.find((r: { names: string[]; includes?: { arches?: string[] } }) => r.names.includes('clone') && r.includes?.arches?.includes('s390x'));
  t.equal(s390Clone.args[0].index, 1);
});

t.test('multiplexed arches are asked of libseccomp: socket goes through socketcall on x86 and s390x', async (t) => {
  const mux = multiplexedOn('socket', ['x86_64', 'x86', 'aarch64', 's390x']);
  t.ok(mux.includes('x86'));
  t.ok(mux.includes('s390x'));
  t.notOk(mux.includes('x86_64'));
  t.notOk(mux.includes('aarch64'));
  t.same(multiplexedOn('clone', ['x86_64', 'x86', 's390x']), []);
});

t.test('levels: safe restricts socket/clone/unshare/personality/prctl; strict adds ioctl/fcntl/setsockopt; off none', async (t) => {
  const merged = mergeRecordedArgs([obs('socket', ['domain', 'type'], [['0x2', '0x80801'], ['0x1', '0x1']]), obs('ioctl', ['request'], [['0x5413']])]);
  const safeSocket = planFor('socket', merged.get('socket'), 'safe', ['x86_64'])!;
  t.same(safeSocket.allowed, [
    [{ index: 0, op: 'eq', value: 1n, valueTwo: 0n }, { index: 1, op: 'masked-eq', value: 0xfn, valueTwo: 1n }],
    [{ index: 0, op: 'eq', value: 2n, valueTwo: 0n }, { index: 1, op: 'masked-eq', value: 0xfn, valueTwo: 1n }],
  ], 'one rule per (domain, type); SOCK_NONBLOCK|SOCK_CLOEXEC masked off');
  t.equal(planFor('ioctl', merged.get('ioctl'), 'safe', ['x86_64']), undefined);
  t.same(planFor('ioctl', merged.get('ioctl'), 'strict', ['x86_64'])!.allowed, [[{ index: 1, op: 'masked-eq', value: 0xffffffffn, valueTwo: 0x5413n }]]);
  t.equal(planFor('socket', merged.get('socket'), 'off', ['x86_64']), undefined);
});

t.test('left open, with the reason: overflow, no values (audit), multiplexed arch, differing positions', async (t) => {
  const over = mergeRecordedArgs([obs('prctl', ['option'], [['0x1']], { args: { names: ['option'], values: [['0x1']], overflowed: true } })]);
  t.match(planFor('prctl', over.get('prctl'), 'safe', ['x86_64'])!.open, /more distinct values/);
  const audit = mergeRecordedArgs([{ arch: 'x86_64', syscall: 'prctl', nr: 157, count: 1 }]);
  t.match(planFor('prctl', audit.get('prctl'), 'safe', ['x86_64'])!.open, /audit source keeps none/);
  const sock = mergeRecordedArgs([obs('socket', ['domain', 'type'], [['0x1', '0x1']])]);
  t.match(planFor('socket', sock.get('socket'), 'safe', ['x86_64', 'x86'])!.open, /multiplexer .* on x86/);
  const clone = mergeRecordedArgs([obs('clone', ['flags'], [['0x11']])]);
  t.match(planFor('clone', clone.get('clone'), 'safe', ['x86_64', 's390x'])!.open, /different positions/);
});

t.test('merging recordings unions values and overflow flags; older recordings with fewer names are projected', async (t) => {
  const m = mergeRecordedArgs([
    obs('socket', ['domain', 'type'], [['0x1', '0x1']]),
    obs('socket', ['domain'], [['0xa']]),
    obs('ioctl', ['request'], [['0x5401']]),
    { ...obs('ioctl', ['request'], [['0x5413']]), args: { names: ['request'], values: [['0x5413']], overflowed: true } },
  ]);
  t.same(m.get('socket'), { names: ['domain'], tuples: [[1n], [10n]], overflowed: false, missing: false });
  t.same(m.get('ioctl')!.tuples, [[0x5401n], [0x5413n]]);
  t.equal(m.get('ioctl')!.overflowed, true);
});

t.test("intersection with moby's socket rules: a recorded AF_VSOCK stays denied, AF_INET is kept", async (t) => {
  const moby = resolveBaseline(loadBaseline(`${DEFAULTS}moby-default.json`), { arches: ['x86_64'], caps: [...DOCKER_DEFAULT_CAPS], kernel: '6.1' });
  const allowed = [
    [{ index: 0, op: 'eq' as const, value: 2n, valueTwo: 0n }],
    [{ index: 0, op: 'eq' as const, value: 40n, valueTwo: 0n }],
  ];
  const joined = intersectWithBaseline('socket', allowed, rulesFor(moby, 'socket'));
  t.equal(joined.fallback, undefined);
  t.same(joined.rules.map((r) => r.args), [[{ index: 0, op: 'eq', value: 2n, valueTwo: 0n }]]);
  // A baseline condition on another argument is ANDed into the same rule (containers-common's netlink audit rule).
  const other = intersectWithBaseline('socket', [[{ index: 0, op: 'eq', value: 16n, valueTwo: 0n }]], [
    { names: ['socket'], action: { kind: 'allow' }, args: [{ index: 2, op: 'ne', value: 9n, valueTwo: 0n }] },
  ]);
  t.same(other.rules[0].args.map((c) => [c.index, c.op]), [[0, 'eq'], [2, 'ne']]);
  // A condition on a pinned argument that the pin cannot decide: the baseline alone, said why.
  const undecided = intersectWithBaseline('clone', [[{ index: 0, op: 'masked-eq', value: 0x7e020000n, valueTwo: 0n }]], [
    { names: ['clone'], action: { kind: 'allow' }, args: [{ index: 0, op: 'lt', value: 5n, valueTwo: 0n }] },
  ]);
  t.match(undecided.fallback, /cannot be joined/);
});

t.test('no generated rule has two conditions on one argument (runc would OR them)', async (t) => {
  for (const level of ['safe', 'strict'] as const) {
    for (const baseline of [undefined, loadBaseline(`${DEFAULTS}moby-default.json`), loadBaseline(`${DEFAULTS}containers-common.json`)]) {
      const { profile } = generateProfile({ recordings: [rec('rec-args.json'), rec('rec-args-second.json')], baseline, caps: [...DOCKER_DEFAULT_CAPS], kernel: '6.1', args: level });
      t.notOk(runcRuleAdds(profile).some((a) => a.split), `${level}, ${baseline ? 'with' : 'without'} baseline`);
    }
  }
});

t.test('clone3: ENOSYS when clone is restricted; clone3 alone brings clone without namespace flags', async (t) => {
  const { profile, report } = generateProfile({ recordings: [rec('rec-args.json')], caps: [], kernel: '6.1', args: 'safe' });
  t.same(rulesFor(profile, 'clone3').map((r) => r.action), [{ kind: 'errno', ret: 38 }]);
  t.match(report.args.clone3, /ENOSYS/);
  const only3: RecordingInput = { file: 'x', recording: { ...rec('rec-args.json').recording, observations: [{ arch: 'x86_64', syscall: 'clone3', nr: 435, count: 1 }] } };
  const g = generateProfile({ recordings: [only3], caps: [], kernel: '6.1', args: 'safe' });
  t.same(rulesFor(g.profile, 'clone').map((r) => r.args), [[{ index: 0, op: 'masked-eq', value: 0x7e020000n, valueTwo: 0n }]]);
  t.same(rulesFor(g.profile, 'clone3').map((r) => r.action.ret), [38]);
  const off = generateProfile({ recordings: [only3], caps: [], kernel: '6.1', args: 'off' });
  t.same(rulesFor(off.profile, 'clone3').map((r) => r.action.kind), ['allow']);
  t.same(rulesFor(off.profile, 'clone'), []);
});

t.test('a syscall whose values overflowed, or came without values, stays unrestricted and the report says why', async (t) => {
  const { profile, report } = generateProfile({ recordings: [rec('rec-args.json'), rec('rec-args-second.json')], caps: [], kernel: '6.1', args: 'strict' });
  t.same(rulesFor(profile, 'ioctl').map((r) => r.args), [[]], 'ioctl overflowed in the second recording');
  t.match(report.args.open, [{ syscall: 'ioctl', why: /more distinct values/ }]);
  // The union of both recordings' socket values (AF_NETLINK SOCK_RAW came from the second).
  t.equal(rulesFor(profile, 'socket').length, 5);
});

t.test('values by name, and the risk report closes what the conditions close', async (t) => {
  t.equal(valueName('socket', 'domain', 38n), 'AF_ALG');
  t.equal(valueName('ioctl', 'request', 0x5412n), 'TIOCSTI');
  t.equal(valueName('clone', 'flags', 0x10020000n), 'CLONE_NEWNS|CLONE_NEWUSER');
  t.equal(valueName('setsockopt', 'optname', 2n, new Map([['level', 1n]])), 'SO_REUSEADDR');
  t.equal(valueName('prctl', 'option', 0x12345n), '0x12345', 'unknown values in hex');
  t.equal(valueOf('AF_PACKET'), 17n);
  const strict = generateProfile({ recordings: [rec('rec-args.json')], caps: [], kernel: '6.1', args: 'strict' }).profile;
  t.same(describeAllowedValues(strict, 'socket')!.split(', ').sort(), ['AF_INET SOCK_STREAM', 'AF_INET6 SOCK_DGRAM', 'AF_UNIX SOCK_STREAM', 'AF_VSOCK SOCK_STREAM']);
  t.equal(describeAllowedValues(strict, 'ioctl'), 'TCGETS, TIOCGWINSZ');
  t.equal(describeAllowedValues(strict, 'clone'), 'no new namespaces');
  const risks = new Map(argRisks(strict, ['x86_64']).map((r) => [r.label, r.status]));
  t.equal(risks.get('packet sockets (AF_PACKET)'), 'closed');
  t.equal(risks.get('raw sockets (SOCK_RAW)'), 'closed');
  t.equal(risks.get('VM host sockets (AF_VSOCK)'), 'open', 'recorded, so allowed');
  t.equal(risks.get('user namespaces (unshare CLONE_NEWUSER)'), 'closed');
  t.equal(risks.get('terminal input injection (ioctl TIOCSTI)'), 'closed');
  t.equal(risks.get('rewriting the memory map (prctl PR_SET_MM)'), 'closed');
  const off = generateProfile({ recordings: [rec('rec-args.json')], caps: [], kernel: '6.1', args: 'off' }).profile;
  t.ok(argRisks(off, ['x86_64']).every((r) => r.status === 'open'), 'names only: every risk open');
  const safe = generateProfile({ recordings: [rec('rec-args.json')], caps: [], kernel: '6.1', args: 'safe' }).profile;
  t.equal(new Map(argRisks(safe, ['x86_64']).map((r) => [r.label, r.status])).get('terminal input injection (ioctl TIOCSTI)'), 'open', 'safe leaves ioctl open');
});

t.test('diff value sets per argument: narrowed from any value, widened by a new family', async (t) => {
  const a = generateProfile({ recordings: [rec('rec-args.json')], caps: [], kernel: '6.1', args: 'off' }).profile;
  const b = generateProfile({ recordings: [rec('rec-args.json')], caps: [], kernel: '6.1', args: 'safe' }).profile;
  const c = generateProfile({ recordings: [rec('rec-args.json'), rec('rec-args-second.json')], caps: [], kernel: '6.1', args: 'safe' }).profile;
  const ta = (p: typeof a) => treatmentOf(canonicalProfile(p), 'socket');
  t.same(valueSetChanges('socket', ta(a), ta(b), ['x86_64']), [
    'domain: any value → AF_INET, AF_INET6, AF_UNIX, AF_VSOCK (narrowed)',
    'type: any value → SOCK_DGRAM, SOCK_STREAM (narrowed)',
  ]);
  t.same(valueSetChanges('socket', ta(b), ta(c), ['x86_64']), ['domain: +AF_NETLINK (widened)', 'type: +SOCK_RAW (widened)']);
});
