// covered.ts: what a profile covers by a syscall's name alone, clone3's retry
// through clone included. Pure.
import t from 'tap';
import { allowsPlainly, coversName, retryOf, servedVia } from '../src/profile/covered.js';
import type { Action, Profile, Rule } from '../src/profile/model.js';

const ALLOW: Action = { kind: 'allow' };
const masked = { index: 0, op: 'masked-eq' as const, value: 0x7e020000n, valueTwo: 0n };
const p = (rules: Rule[], def: Action = { kind: 'errno' }, defaultErrnoRet?: number): Profile => ({
  defaultAction: def,
  ...(defaultErrnoRet === undefined ? {} : { defaultErrnoRet }),
  architectures: ['x86_64'],
  rules,
  flags: [],
});
const enosys = (names = ['clone3']): Rule => ({ names, action: { kind: 'errno', ret: 38 }, args: [] });

t.test('clone3 is served through clone when it is always answered ENOSYS and clone is allowed', async (t) => {
  t.equal(servedVia(p([{ names: ['clone'], action: ALLOW, args: [masked] }, enosys()]), 'clone3'), 'clone', 'clone under conditions: they apply to the retry');
  t.equal(servedVia(p([{ names: ['clone', 'read'], action: ALLOW, args: [] }, enosys()]), 'clone3'), 'clone');
  t.equal(servedVia(p([enosys()], ALLOW), 'clone3'), 'clone', 'clone allowed by the default');
  t.equal(servedVia(p([{ names: ['clone'], action: ALLOW, args: [] }], { kind: 'errno' }, 38), 'clone3'), 'clone', 'no rule: the default answers ENOSYS');
  t.equal(servedVia(p([{ names: ['clone'], action: { kind: 'log' }, args: [] }, enosys()]), 'clone3'), 'clone', 'LOG lets clone run');
});

t.test('no retry otherwise', async (t) => {
  t.equal(servedVia(p([enosys()]), 'clone3'), undefined, 'clone denied');
  t.equal(servedVia(p([enosys(['clone3', 'clone'])]), 'clone3'), undefined, 'clone answered ENOSYS too');
  t.equal(servedVia(p([{ names: ['clone'], action: ALLOW, args: [] }, { names: ['clone3'], action: { kind: 'errno' }, args: [] }]), 'clone3'), undefined, 'EPERM (a rule without errnoRet): glibc gives up');
  t.equal(servedVia(p([{ names: ['clone'], action: ALLOW, args: [] }]), 'clone3'), undefined, 'the default answers EPERM');
  t.equal(
    servedVia(p([{ names: ['clone'], action: ALLOW, args: [] }, { ...enosys(), args: [{ index: 1, op: 'eq', value: 88n, valueTwo: 0n }] }]), 'clone3'),
    undefined,
    'ENOSYS only under a condition: other calls take the default',
  );
  t.equal(servedVia(p([{ names: ['clone'], action: ALLOW, args: [] }, enosys(['fork'])]), 'fork'), undefined, 'only names with a retry');
  t.equal(servedVia(p([{ names: ['clone', 'clone3'], action: ALLOW, args: [] }]), 'clone3'), undefined, 'allowed, not retried');
});

t.test('covers: a plain allow or a retry, on a listed arch', async (t) => {
  const prof = p([{ names: ['clone', 'read'], action: ALLOW, args: [] }, { names: ['socket'], action: ALLOW, args: [masked] }, enosys()]);
  t.ok(coversName(prof, 'read', 'x86_64'));
  t.ok(coversName(prof, 'clone3', 'x86_64'));
  t.notOk(coversName(prof, 'clone3', 'x86'), 'x86 is not listed');
  t.notOk(coversName(prof, 'socket'), 'conditions: not by the name alone');
  t.notOk(allowsPlainly(prof, 'clone3'), 'a retry is not an allow');
  t.notOk(coversName(prof, 'mount'));
  t.same(retryOf('clone3'), { answer: { kind: 'errno', ret: 38 }, via: 'clone' });
  t.equal(retryOf('read'), undefined);
});
