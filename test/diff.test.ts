// Pure tests of the semantic diff: the canonical view, every change kind and
// its class, equivalences that must show no change, the summary line, the
// --fail-on policy and the three renderers. No libseccomp, no I/O beyond fixtures.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { canonicalProfile, possibleActions, treatmentOf, treatmentOn } from '../src/profile/canonical.js';
import { DANGEROUS, dangerReason } from '../src/profile/dangerous.js';
import type { Change, DefaultChange, DiffResult, FailOn, SyscallChange } from '../src/profile/diff.js';
import { diffProfiles, summaryLine, violates } from '../src/profile/diff.js';
import type { DiffReport } from '../src/profile/diff-render.js';
import { renderJson, renderMarkdown, renderText, shouldColor } from '../src/profile/diff-render.js';
import { parseProfileText } from '../src/profile/load.js';
import type { Profile } from '../src/profile/model.js';
import { profileFromOciObject, serializeOci } from '../src/profile/oci.js';

const FIX = new URL('./fixtures/diff/', import.meta.url).pathname;
const load = (name: string) => parseProfileText(readFileSync(`${FIX}${name}`, 'utf8'), name).profile;

/** An OCI document (as an object) → Profile; arches default to x86_64. */
function oci(doc: Record<string, unknown>): Profile {
  return profileFromOciObject({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], ...doc }, 'test.json');
}
const allow = (...names: string[]) => ({ names, action: 'SCMP_ACT_ALLOW' });
const arg = (index: number, op: string, value: number | string, valueTwo: number | string = 0) => ({ index, op: `SCMP_CMP_${op}`, value, valueTwo });

function diff(before: Record<string, unknown>, after: Record<string, unknown>): DiffResult {
  return diffProfiles(oci(before), oci(after));
}
function only(r: DiffResult): Change {
  if (r.changes.length !== 1) throw new Error(`expected one change, got ${JSON.stringify(r.changes.map((c) => c.kind))}`);
  return r.changes[0];
}
function syscallOnly(r: DiffResult): SyscallChange {
  const c = only(r);
  if (!('syscall' in c)) throw new Error(`not a syscall change: ${c.kind}`);
  return c;
}

t.test('dangerous list: the syscalls the issue names, each with a reason, sorted', async (t) => {
  for (const n of ['unshare', 'mount', 'umount2', 'ptrace', 'bpf', 'perf_event_open', 'userfaultfd', 'keyctl', 'add_key', 'request_key',
    'io_uring_setup', 'io_uring_enter', 'io_uring_register', 'kexec_load', 'kexec_file_load', 'init_module', 'finit_module',
    'delete_module', 'open_by_handle_at', 'setns', 'pivot_root', 'chroot', 'process_vm_writev', 'clone', 'personality', 'swapon', 'reboot'])
    t.ok(dangerReason(n), `${n} is on the list`);
  t.match(dangerReason('unshare'), /CVE-2022-0185/);
  t.match(dangerReason('clone'), /namespace flags/);
  t.equal(dangerReason('read'), undefined);
  const names = [...DANGEROUS.keys()];
  t.same(names, [...names].sort(), 'sorted by name');
});

t.test('no change: reordered, re-split, merged rules and implied values mean the same', async (t) => {
  const base = load('app.json');
  const resplit = load('app-resplit.yaml');
  t.same(diffProfiles(base, resplit).changes, [], 'SPO YAML with split/merged/reordered rules equals the OCI JSON');
  t.same(diffProfiles(resplit, base).changes, []);

  // Every name in its own rule, rules and names reversed, conditions reversed.
  const split: Profile = {
    ...base,
    rules: base.rules
      .flatMap((r) => r.names.map((n) => ({ ...r, names: [n], args: [...r.args].reverse() })))
      .reverse(),
  };
  t.same(diffProfiles(base, split).changes, [], 'one rule per name, reversed');
  // All allowed names merged into one rule.
  const names = base.rules.filter((r) => r.action.kind === 'allow' && !r.args.length).flatMap((r) => r.names);
  const merged: Profile = { ...base, rules: [{ names: [...names, ...names], action: { kind: 'allow' }, args: [] }, ...base.rules.filter((r) => r.args.length || r.action.kind !== 'allow')] };
  t.same(diffProfiles(base, merged).changes, [], 'merged with duplicate names');

  t.same(diff({ syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] }, { syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] }).changes, [], 'errnoRet 1 is what runc uses when absent');
  t.same(diff({}, { defaultErrnoRet: 1 }).changes, [], 'defaultErrnoRet EPERM is the default');
  t.same(diff({ syscalls: [allow('read')] }, { syscalls: [allow('read'), { names: ['ptrace'], action: 'SCMP_ACT_ERRNO' }] }).changes, [], 'a rule equal to the default means nothing');
  t.same(
    diff({ syscalls: [{ ...allow('socket'), args: [arg(0, 'NE', 40, 7)] }] }, { syscalls: [{ ...allow('socket'), args: [arg(0, 'NE', 40, 0)] }] }).changes,
    [],
    'valueTwo means nothing outside SCMP_CMP_MASKED_EQ',
  );
  t.same(
    diff({ syscalls: [{ ...allow('socket'), args: [arg(0, 'EQ', 1)] }] }, { syscalls: [{ ...allow('socket'), args: [arg(0, 'EQ', 1)] }, { ...allow('socket'), args: [arg(0, 'EQ', 1), arg(1, 'EQ', 2)] }] }).changes,
    [],
    'a clause inside another allowing clause adds nothing',
  );
  t.same(diff({ architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X86_64'] }, { architectures: ['x86_64', 'x86'] }).changes, [], 'arch spelling and order');
});

t.test('allowed and denied syscalls', async (t) => {
  const added = syscallOnly(diff({ syscalls: [allow('read')] }, { syscalls: [allow('read', 'unshare')] }));
  t.match(added, { kind: 'allowed', class: 'widen', syscall: 'unshare', arches: ['x86_64'], mixed: false });
  t.match(added.danger, /CVE-2022-0185/, 'a dangerous widening is marked');
  t.equal(added.old.via, 'default');
  t.equal(added.new.via, 'rule');

  const plain = syscallOnly(diff({ syscalls: [allow('read')] }, { syscalls: [allow('read', 'getpid')] }));
  t.equal(plain.danger, undefined, 'getpid is not dangerous');

  const removed = syscallOnly(diff({ syscalls: [allow('read', 'ptrace')] }, { syscalls: [allow('read')] }));
  t.match(removed, { kind: 'denied', class: 'narrow', syscall: 'ptrace' });
  t.equal(removed.danger, undefined, 'narrowing a dangerous syscall is not marked');

  const deny = syscallOnly(diff({ defaultAction: 'SCMP_ACT_ALLOW' }, { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mount'], action: 'SCMP_ACT_ERRNO' }] }));
  t.match(deny, { kind: 'denied', class: 'narrow', syscall: 'mount' }, 'a deny-list entry added');
});

t.test('action changes are classified by what runs: deny < tracer/supervisor < run', async (t) => {
  const change = (from: Record<string, unknown>, to: Record<string, unknown>) =>
    syscallOnly(diff({ syscalls: [{ names: ['kill'], ...from }] }, { syscalls: [{ names: ['kill'], ...to }] }));
  t.match(change({ action: 'SCMP_ACT_ERRNO', errnoRet: 13 }, { action: 'SCMP_ACT_LOG' }), { kind: 'allowed', class: 'widen' }, 'ERRNO → LOG');
  t.match(change({ action: 'SCMP_ACT_KILL_PROCESS' }, { action: 'SCMP_ACT_ALLOW' }), { kind: 'allowed', class: 'widen' }, 'KILL → ALLOW');
  t.match(change({ action: 'SCMP_ACT_ERRNO', errnoRet: 13 }, { action: 'SCMP_ACT_TRACE' }), { kind: 'action', class: 'widen' }, 'ERRNO → TRACE');
  t.match(change({ action: 'SCMP_ACT_ERRNO', errnoRet: 13 }, { action: 'SCMP_ACT_NOTIFY' }), { kind: 'action', class: 'widen' }, 'ERRNO → NOTIFY');
  t.match(change({ action: 'SCMP_ACT_NOTIFY' }, { action: 'SCMP_ACT_ALLOW' }), { kind: 'allowed', class: 'widen' }, 'NOTIFY → ALLOW');
  t.match(change({ action: 'SCMP_ACT_ALLOW' }, { action: 'SCMP_ACT_NOTIFY' }), { kind: 'denied', class: 'narrow' }, 'ALLOW → NOTIFY');
  t.match(change({ action: 'SCMP_ACT_ALLOW' }, { action: 'SCMP_ACT_LOG' }), { kind: 'action', class: 'neutral' }, 'ALLOW → LOG');
  t.match(change({ action: 'SCMP_ACT_KILL_PROCESS' }, { action: 'SCMP_ACT_ERRNO', errnoRet: 13 }), { kind: 'action', class: 'neutral' }, 'KILL → ERRNO');
  t.match(change({ action: 'SCMP_ACT_TRACE', errnoRet: 1 }, { action: 'SCMP_ACT_NOTIFY' }), { kind: 'action', class: 'neutral' }, 'TRACE → NOTIFY');
  t.match(change({ action: 'SCMP_ACT_ERRNO', errnoRet: 13 }, { action: 'SCMP_ACT_ERRNO', errnoRet: 38 }), { kind: 'errno', class: 'neutral' }, 'errno changed');
  t.match(change({ action: 'SCMP_ACT_TRACE', errnoRet: 1 }, { action: 'SCMP_ACT_TRACE', errnoRet: 2 }), { kind: 'errno', class: 'neutral' }, 'trace value changed');
});

t.test('argument conditions: added, removed, loosened, tightened, replaced', async (t) => {
  const clone = (args?: unknown[]) => ({ syscalls: [{ names: ['clone'], action: 'SCMP_ACT_ALLOW', ...(args ? { args } : {}) }] });
  const noNs = [arg(0, 'MASKED_EQ', 0x7e020000, 0)];
  const loosened = syscallOnly(diff(clone(noNs), clone()));
  t.match(loosened, { kind: 'conditions', class: 'widen', syscall: 'clone', mixed: false }, 'conditional → unconditional widens');
  t.match(loosened.danger, /namespace/);
  t.match(syscallOnly(diff(clone(), clone(noNs))), { kind: 'conditions', class: 'narrow' }, 'unconditional → conditional narrows');
  t.match(syscallOnly(diff(clone(noNs), clone([arg(0, 'MASKED_EQ', 0x7e000000, 0)]))), { kind: 'conditions', class: 'widen' }, 'a smaller mask widens');
  t.match(syscallOnly(diff(clone(noNs), clone([arg(0, 'MASKED_EQ', 0x7e020000, 0), arg(1, 'EQ', 0)]))), { kind: 'conditions', class: 'narrow' }, 'a condition ANDed narrows');

  const pers = (...values: number[]) => ({ syscalls: values.map((v) => ({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [arg(0, 'EQ', v)] })) });
  t.match(syscallOnly(diff(pers(0), pers(0, 8))), { kind: 'conditions', class: 'widen' }, 'an ORed clause widens');
  t.match(syscallOnly(diff(pers(0, 8), pers(8))), { kind: 'conditions', class: 'narrow' }, 'an ORed clause removed narrows');
  const replaced = syscallOnly(diff(pers(0), pers(8)));
  t.match(replaced, { kind: 'conditions', class: 'widen', mixed: true }, 'a value replaced widens for one argument and narrows for another');
  t.match(syscallOnly(diff(pers(0), { syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [arg(0, 'LE', 8)] }] })), { class: 'widen' }, 'eq → le widens');
  t.match(syscallOnly(diff(pers(0), {})), { kind: 'denied', class: 'narrow' }, 'conditional allow removed');
  t.match(syscallOnly(diff({}, pers(0))), { kind: 'allowed', class: 'widen' }, 'conditional allow added');

  const big = '0xffffffffffffffff';
  t.match(syscallOnly(diff({ syscalls: [{ ...allow('ioctl'), args: [arg(1, 'LT', big)] }] }, { syscalls: [allow('ioctl')] })), { class: 'widen' }, '64-bit edge: < 2^64-1 → always');
});

t.test('overlapping rules: a deny inside an allowed range', async (t) => {
  const socket = (withDeny: boolean) => ({
    syscalls: [
      { ...allow('socket'), args: [arg(0, 'GE', 10)] },
      ...(withDeny ? [{ names: ['socket'], action: 'SCMP_ACT_ERRNO', errnoRet: 97, args: [arg(0, 'EQ', 40)] }] : []),
    ],
  });
  t.match(syscallOnly(diff(socket(true), socket(false))), { class: 'widen' }, 'removing the deny widens');
  t.match(syscallOnly(diff(socket(false), socket(true))), { class: 'narrow' }, 'adding it narrows');
  t.same(diff(socket(true), socket(true)).changes, []);
  const t1 = treatmentOf(canonicalProfile(oci(socket(true))), 'socket');
  t.same(possibleActions(t1, [40n]).map((a) => a.kind).sort(), ['allow', 'errno'], 'both may apply at the overlap');
});

t.test('too many argument combinations: counted as a widening, with a note', async (t) => {
  const masks = (v: number) => ({ syscalls: [{ ...allow('ioctl'), args: [0, 1, 2, 3, 4, 5].map((i) => arg(i, 'MASKED_EQ', 0xffff, v)) }] });
  const r = diff(masks(1), masks(2));
  t.match(syscallOnly(r), { kind: 'conditions', class: 'widen', syscall: 'ioctl' });
  t.same(r.notes, ['too many argument conditions to compare exactly, counted as widening: ioctl']);
  t.same(diff(masks(1), masks(1)).changes, [], 'identical rules are still equal');
});

t.test('unconditional rules: they override conditional ones, the first one wins (libseccomp 2.5.4)', async (t) => {
  const v = canonicalProfile(oci({ syscalls: [{ ...allow('socket'), args: [arg(0, 'EQ', 40)] }, { names: ['socket'], action: 'SCMP_ACT_LOG' }, allow('socket')] }));
  t.same(treatmentOf(v, 'socket'), { via: 'rule', unconditional: { kind: 'log' }, clauses: [], otherwise: { kind: 'errno', ret: 1 } });
  const swapped = diff({ syscalls: [{ names: ['socket'], action: 'SCMP_ACT_LOG' }, allow('socket')] }, { syscalls: [allow('socket'), { names: ['socket'], action: 'SCMP_ACT_LOG' }] });
  t.match(syscallOnly(swapped), { kind: 'action', class: 'neutral' }, 'swapping two conflicting unconditional rules changes the action');
  t.same(diff({ syscalls: [{ names: ['socket'], action: 'SCMP_ACT_ERRNO' }, allow('socket')] }, { syscalls: [allow('socket')] }).changes, [], 'a skipped rule (equal to the default) does not win');
  t.throws(() => canonicalProfile({ ...oci({}), archMap: [] }), RangeError, 'Docker-shaped profiles must be resolved first');
});

t.test('default action and default errno', async (t) => {
  const r = diff({ syscalls: [allow('read')] }, { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['ptrace'], action: 'SCMP_ACT_ERRNO' }] });
  const dc = r.changes.find((c) => c.kind === 'default-action') as DefaultChange;
  t.match(dc, { class: 'widen', old: { kind: 'errno', ret: 1 }, new: { kind: 'allow' } });
  const unnamed = dc.dangerousUnnamed.map((d) => d.syscall);
  t.ok(unnamed.includes('unshare') && unnamed.includes('mount'), 'dangerous syscalls no rule names are listed');
  t.notOk(unnamed.includes('ptrace'), 'ptrace is named (denied) in the new profile');
  t.same(r.changes.filter((c) => 'syscall' in c), [], 'read (rule → default) and ptrace (default → rule) keep their meaning');
  t.equal(r.summary.verdict, 'widen');
  t.equal(r.summary.dangerous, unnamed.length);

  const errno = only(diff({}, { defaultErrnoRet: 38 }));
  t.match(errno, { kind: 'default-errno', class: 'neutral', dangerousUnnamed: [] });
  t.match(only(diff({ defaultAction: 'SCMP_ACT_ALLOW' }, {})), { kind: 'default-action', class: 'narrow' });
  t.match(only(diff({}, { defaultAction: 'SCMP_ACT_KILL_PROCESS' })), { kind: 'default-action', class: 'neutral' });

  // A named conditional syscall follows the default where no condition matches.
  const pers = { syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [arg(0, 'EQ', 0)] }] };
  const wide = diff(pers, { ...pers, defaultAction: 'SCMP_ACT_LOG' });
  const p = wide.changes.find((c) => 'syscall' in c && c.syscall === 'personality') as SyscallChange;
  t.match(p, { kind: 'conditions', class: 'widen' }, 'personality now runs for every argument');
  t.match(p.danger, /ASLR/);
  const quiet = diff(pers, { ...pers, defaultErrnoRet: 38 });
  t.same(quiet.changes.map((c) => c.kind), ['default-errno'], "a conditional syscall's errno that only follows the default is said once");
});

t.test('architectures, flags, listener', async (t) => {
  const added = diff({}, { architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'] });
  t.same(added.changes, [{ kind: 'architecture-added', class: 'widen', architecture: 'x86' }]);
  t.same(diff({ architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'] }, {}).changes, [{ kind: 'architecture-removed', class: 'narrow', architecture: 'aarch64' }]);
  t.same(diff({ architectures: [] }, {}).changes.map((c) => c.kind), ['architecture-added'], 'listing an arch where none was listed widens');

  t.match(only(diff({}, { flags: ['SECCOMP_FILTER_FLAG_SPEC_ALLOW'] })), { kind: 'flag-added', class: 'widen', flag: 'SECCOMP_FILTER_FLAG_SPEC_ALLOW' });
  t.match(only(diff({ flags: ['SECCOMP_FILTER_FLAG_SPEC_ALLOW'] }, {})), { kind: 'flag-removed', class: 'narrow' });
  t.match(only(diff({}, { flags: ['SECCOMP_FILTER_FLAG_LOG'] })), { kind: 'flag-added', class: 'neutral' });
  t.same(diff({ flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_TSYNC'] }, { flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG'] }).changes, []);

  t.same(diff({ listenerPath: '/run/a.sock' }, { listenerPath: '/run/b.sock', listenerMetadata: 'x' }).changes, [
    { kind: 'listener-path', class: 'neutral', old: '/run/a.sock', new: '/run/b.sock' },
    { kind: 'listener-metadata', class: 'neutral', new: 'x' },
  ]);
});

t.test('per architecture: a change holds where the syscall exists', async (t) => {
  // A stand-in for libseccomp's table, so this test stays pure.
  const table: Record<string, string[]> = { x86_64: ['read', 'open', 'arch_prctl'], x86: ['read', 'open', 'socketcall'] };
  const exists = (arch: string, name: string) => (table[arch] ? table[arch].includes(name) : undefined);
  const arches = { architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'] };
  const r = diffProfiles(oci({ ...arches }), oci({ ...arches, syscalls: [allow('read', 'socketcall', 'arch_prctl', 'nosuch_call')] }), { exists });
  t.same(r.arches, ['x86', 'x86_64']);
  t.same(
    r.changes.map((c) => [(c as SyscallChange).syscall, (c as SyscallChange).arches]),
    [['arch_prctl', ['x86_64']], ['read', ['x86', 'x86_64']], ['socketcall', ['x86']]],
  );
  t.same(r.notes, ['left out 1 change to syscalls that exist on none of x86, x86_64: nosuch_call']);
  const v = canonicalProfile(oci({ ...arches, syscalls: [allow('socketcall')] }));
  t.equal(treatmentOn(v, 'x86_64', 'socketcall', exists), undefined, 'absent on x86_64');
  t.equal(treatmentOn(v, 'x86', 'socketcall', exists)?.via, 'rule');
  t.equal(treatmentOn(v, 'aarch64', 'read', exists), undefined, 'not an arch of the filter');
});

t.test('summary line and --fail-on', async (t) => {
  const widened = diffProfiles(load('app.json'), load('app-widened.json'));
  t.equal(summaryLine(widened.summary), '+3 allowed, -1 allowed, 0 changed conditions (widens)');
  const neutral = diffProfiles(load('app.json'), load('app-errno.json'));
  t.equal(summaryLine(neutral.summary), '+0 allowed, -0 allowed, 0 changed conditions, 1 other change (neutral)');
  const none = diffProfiles(load('app.json'), load('app-resplit.yaml'));
  t.equal(summaryLine(none.summary), '+0 allowed, -0 allowed, 0 changed conditions (no change)');
  const narrowed = diffProfiles(load('app-widened.json'), load('app.json'));
  t.equal(summaryLine(narrowed.summary), '+1 allowed, -3 allowed, 0 changed conditions (widens)', 'mkdirat is allowed again, so this widens too');

  const table: [DiffResult, FailOn, boolean][] = [
    [widened, 'widen', true], [widened, 'any', true], [widened, 'never', false],
    [neutral, 'widen', false], [neutral, 'any', true], [neutral, 'never', false],
    [none, 'widen', false], [none, 'any', false], [none, 'never', false],
  ];
  for (const [r, policy, want] of table) t.equal(violates(r.summary, policy), want, `${r.summary.verdict} with --fail-on ${policy}`);
});

function report(r: DiffResult, failOn: FailOn = 'widen'): DiffReport {
  return { old: { file: 'app.json', format: 'oci' }, new: { file: 'new.yaml', format: 'spo', name: 'app' }, result: r, failOn, failed: violates(r.summary, failOn), notes: r.notes };
}

t.test('text renderer: one line per change, dangerous reasons, colour only when asked, summary last', async (t) => {
  const r = report(diffProfiles(load('app.json'), load('app-widened.json')));
  const plain = renderText(r, { color: false });
  t.notMatch(plain, /\u001b\[/, 'no escape codes without colour');
  t.match(plain, /^--- app\.json \(OCI JSON\)\n\+\+\+ new\.yaml \(SPO SeccompProfile "app"\)\n/);
  t.match(plain, /\nwiden {4}unshare {2}now allowed: ERRNO\(EPERM\) \(default\) → ALLOW\n\s+dangerous: .*CVE-2022-0185/);
  t.match(plain, /\nnarrow {3}mkdirat {2}no longer allowed: ALLOW → ERRNO\(EPERM\) \(default\)/);
  t.match(plain, /uname {4}now allowed: ERRNO\(EPERM\) \(default\) → LOG/);
  const lines = plain.trimEnd().split('\n');
  t.equal(lines[lines.length - 1], '+3 allowed, -1 allowed, 0 changed conditions (widens)', 'the summary ends the output');
  const coloured = renderText(r, { color: true });
  t.match(coloured, /\u001b\[31mwiden/);
  t.match(coloured, /\u001b\[32mnarrow/);
  t.equal(coloured.replace(/\u001b\[[0-9;]*m/g, ''), plain, 'colour adds only escape codes');

  t.equal(shouldColor({ isTTY: true }, {}), true, 'a terminal gets colour');
  t.equal(shouldColor({ isTTY: false }, {}), false, 'a pipe or file does not');
  t.equal(shouldColor({ isTTY: true }, { NO_COLOR: '1' }), false, 'NO_COLOR wins on a terminal');
  t.equal(shouldColor({ isTTY: true }, { NO_COLOR: '' }), true, 'an empty NO_COLOR is unset (no-color.org)');
  t.equal(shouldColor({ isTTY: true }, { TERM: 'dumb' }), false);

  const cond = report(diff({ syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [arg(0, 'EQ', 0), arg(0, 'EQ', 8)] }] }, { syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [arg(0, 'EQ', 8)] }] }));
  t.match(renderText(cond, { color: false }), /personality {2}conditions tightened: ALLOW if arg0 == 0 or arg0 == 8; else ERRNO\(EPERM\) → ALLOW if arg0 == 8; else ERRNO\(EPERM\)/);
  const masked = report(diff({ syscalls: [{ names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [arg(0, 'MASKED_EQ', 0x7e020000, 0), arg(2, 'GT', 0x10000)] }] }, { syscalls: [allow('clone')] }));
  t.match(renderText(masked, { color: false }), /ALLOW if arg0 & 0x7e020000 == 0x0 and arg2 > 0x10000; else ERRNO\(EPERM\) → ALLOW/);
});

t.test('markdown renderer: a table, escaped cells, summary last', async (t) => {
  const md = renderMarkdown(report(diffProfiles(load('app.json'), load('app-widened.json'))));
  t.match(md, /^### seccomp profile diff\n\n`app\.json` \(OCI JSON\) → `new\.yaml` \(SPO SeccompProfile "app"\)\n/);
  t.match(md, /\| Class \| Subject \| Change \| Before \| After \| Note \|\n\|---\|---\|---\|---\|---\|---\|\n/);
  t.match(md, /\| \*\*widen\*\* \| `unshare` \| now allowed \| `ERRNO\(EPERM\) \(default\)` \| `ALLOW` \| ⚠️ dangerous: .*CVE-2022-0185.* \|\n/);
  t.match(md, /\| narrow \| `mkdirat` \| no longer allowed \|/);
  t.ok(md.endsWith('**+3 allowed, -1 allowed, 0 changed conditions (widens)**\n'));
  const rows = md.split('\n').filter((l) => l.startsWith('| '));
  t.equal(rows.length, 1 + 4, 'header and one row per change');
  for (const row of rows) t.equal(row.replace(/\\\|/g, '').split('|').length, 8, `six cells: ${row}`);

  const listener = renderMarkdown(report(diff({}, { listenerPath: '/run/a|b.sock' })));
  t.match(listener, /`"\/run\/a\\\|b\.sock"`/, 'a pipe inside a cell is escaped');
  const empty = renderMarkdown(report(diffProfiles(load('app.json'), load('app-resplit.yaml'))));
  t.match(empty, /No change in meaning\.\n\n\*\*\+0 allowed, -0 allowed, 0 changed conditions \(no change\)\*\*\n$/);
});

t.test('JSON renderer: the documented schema, exact 64-bit values, stable bytes', async (t) => {
  const before = { syscalls: [{ names: ['ioctl'], action: 'SCMP_ACT_ALLOW', args: [arg(1, 'MASKED_EQ', '0xffffffffffffffff', '0x8000000000000001')] }] };
  const r = report(diff(before, { syscalls: [allow('ioctl', 'unshare')], defaultErrnoRet: 38 }), 'any');
  const text = renderJson(r);
  t.equal(text, renderJson(r), 'same input, same bytes');
  t.match(text, /"value": 18446744073709551615,\n\s+"valueTwo": 9223372036854775809/, '64-bit values are exact JSON integers');
  const doc = JSON.parse(text);
  t.same(Object.keys(doc), ['kind', 'version', 'old', 'new', 'failOn', 'failed', 'verdict', 'summary', 'changes', 'notes']);
  t.match(doc, { kind: 'seccomp-recorder/diff', version: 2, old: { file: 'app.json', format: 'oci', name: null }, new: { format: 'spo', name: 'app' }, failOn: 'any', failed: true, verdict: 'widen' });
  t.same(doc.summary, { allowed: 1, denied: 0, conditions: 1, other: 1, widen: 2, narrow: 0, neutral: 1, dangerous: 1, line: '+1 allowed, -0 allowed, 1 changed condition, 1 other change (widens)' });
  t.same(doc.changes.map((c: { kind: string }) => c.kind), ['default-errno', 'conditions', 'allowed']);
  const [dflt, ioctl, unshare] = doc.changes;
  t.same(dflt, { kind: 'default-errno', class: 'neutral', description: 'default errno changed: ERRNO(EPERM) → ERRNO(ENOSYS)', old: { action: 'SCMP_ACT_ERRNO', errnoRet: 1 }, new: { action: 'SCMP_ACT_ERRNO', errnoRet: 38 }, dangerousUnnamed: [] });
  t.same(Object.keys(ioctl), ['kind', 'class', 'description', 'syscall', 'arches', 'old', 'new', 'mixed', 'danger', 'equivalentIn']);
  t.same(ioctl.old, {
    via: 'conditional',
    action: null,
    rules: [{ action: 'SCMP_ACT_ALLOW', errnoRet: null, args: [{ index: 1, op: 'SCMP_CMP_MASKED_EQ', value: 18446744073709552000, valueTwo: 9223372036854776000 }] }],
    otherwise: { action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
  });
  t.same(ioctl.new, { via: 'rule', action: { action: 'SCMP_ACT_ALLOW', errnoRet: null }, rules: [], otherwise: { action: 'SCMP_ACT_ERRNO', errnoRet: 38 } });
  t.equal(ioctl.danger, null);
  t.match(unshare, { kind: 'allowed', class: 'widen', syscall: 'unshare', arches: ['x86_64'], danger: /CVE-2022-0185/ });
});

t.test('the diff of a profile with its own serialisation is empty (round trip)', async (t) => {
  const p = load('app-resplit.yaml');
  const again = parseProfileText(serializeOci(p), 'again.json').profile;
  t.same(diffProfiles(p, again).changes, []);
});
