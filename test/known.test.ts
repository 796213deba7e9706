// The incremental filter derived from known profiles, and the merged output. Pure.
import t from 'tap';
import { knownFilterProfile, knownUnconditionally, withNewNames } from '../src/profile/known.js';
import type { Profile } from '../src/profile/model.js';

const p = (rules: Profile['rules'], def: Profile['defaultAction'] = { kind: 'errno' }, architectures = ['x86_64']): Profile => ({
  defaultAction: def,
  architectures,
  rules,
  flags: [],
});
const cond = { index: 0, op: 'eq' as const, value: 0n, valueTwo: 0n };

t.test('deny-by-default P: allowed names ALLOW (conditions kept), the rest NOTIFY, execve always NOTIFY', async (t) => {
  const f = knownFilterProfile([
    p([
      { names: ['execve', 'read'], action: { kind: 'allow' }, args: [] },
      { names: ['personality'], action: { kind: 'allow' }, args: [cond] },
      { names: ['write'], action: { kind: 'log' }, args: [] },
      { names: ['mount'], action: { kind: 'errno', ret: 38 }, args: [] },
    ]),
  ]);
  t.same(f.defaultAction, { kind: 'notify' });
  t.same(f.rules, [
    { names: ['read'], action: { kind: 'allow' }, args: [] },
    { names: ['personality'], action: { kind: 'allow' }, args: [cond] },
    { names: ['write'], action: { kind: 'allow' }, args: [] },
  ]);
});

t.test('allow-by-default P: denied names NOTIFY, execve NOTIFY', async (t) => {
  const f = knownFilterProfile([p([{ names: ['mount'], action: { kind: 'errno' }, args: [] }], { kind: 'allow' })]);
  t.same(f.defaultAction, { kind: 'allow' });
  t.same(f.rules, [
    { names: ['mount'], action: { kind: 'notify' }, args: [] },
    { names: ['execve', 'execveat'], action: { kind: 'notify' }, args: [] },
  ]);
});

t.test('known unconditionally: per arch, conditions make a call not known', async (t) => {
  const known = [p([{ names: ['read'], action: { kind: 'allow' }, args: [] }, { names: ['clone'], action: { kind: 'allow' }, args: [cond] }])];
  t.ok(knownUnconditionally(known, 'x86_64', 'read'));
  t.notOk(knownUnconditionally(known, 'x86', 'read'), 'x86 is not listed');
  t.notOk(knownUnconditionally(known, 'x86_64', 'clone'), 'notified clone was outside the condition');
  t.notOk(knownUnconditionally(known, 'x86_64', 'mount'));
});

t.test('clone3 served by the retry through clone keeps its ENOSYS in the filter and is known', async (t) => {
  const enosys = { names: ['clone3'], action: { kind: 'errno' as const, ret: 38 }, args: [] };
  const retry = p([{ names: ['read'], action: { kind: 'allow' }, args: [] }, { names: ['clone'], action: { kind: 'allow' }, args: [cond] }, enosys]);
  t.same(knownFilterProfile([retry]).rules, [
    { names: ['read'], action: { kind: 'allow' }, args: [] },
    { names: ['clone'], action: { kind: 'allow' }, args: [cond] },
    enosys,
  ], 'answered in the kernel as under P, so glibc retries with clone and meets its conditions');
  t.ok(knownUnconditionally([retry], 'x86_64', 'clone3'));
  const allowDefault = p([enosys], { kind: 'allow' });
  t.same(knownFilterProfile([allowDefault]).rules, [enosys, { names: ['execve', 'execveat'], action: { kind: 'notify' }, args: [] }], 'not NOTIFY under an allowing default');
  const noClone = p([{ names: ['read'], action: { kind: 'allow' }, args: [] }, enosys]);
  t.same(knownFilterProfile([noClone]).rules, [{ names: ['read'], action: { kind: 'allow' }, args: [] }], 'clone denied: no retry, clone3 notified (the default)');
  t.notOk(knownUnconditionally([noClone], 'x86_64', 'clone3'));
  const allows = p([{ names: ['clone3'], action: { kind: 'allow' }, args: [] }]);
  t.same(knownFilterProfile([retry, allows]).rules.filter((r) => r.names.includes('clone3')), [{ names: ['clone3'], action: { kind: 'allow' }, args: [] }], 'another known profile allows clone3: it runs');
});

t.test('new names join the unconditional ALLOW rule, sorted, and leave deny rules', async (t) => {
  const base = p([
    { names: ['read', 'write'], action: { kind: 'allow' }, args: [] },
    { names: ['mount', 'umount2'], action: { kind: 'errno' }, args: [] },
  ]);
  const out = withNewNames(base, ['mount', 'flock', 'flock']);
  t.same(out.rules, [
    { names: ['flock', 'mount', 'read', 'write'], action: { kind: 'allow' }, args: [] },
    { names: ['umount2'], action: { kind: 'errno' }, args: [] },
  ]);
  t.same(base.rules[0].names, ['read', 'write'], 'input untouched');
  t.same(withNewNames(p([]), ['x']).rules, [{ names: ['x'], action: { kind: 'allow' }, args: [] }]);
});
