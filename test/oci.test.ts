// OCI profile parsing (every problem named by path) and deterministic serialising.
import t from 'tap';
import { InputError } from '../src/errors.js';
import { allowListProfile } from '../src/profile/model.js';
import { parseOciProfile, serializeOci } from '../src/profile/oci.js';
import { minimalProfile } from '../src/profile/minimal.js';
import type { Recording } from '../src/profile/recording.js';

function problems(text: string): string[] {
  try {
    parseOciProfile(text, 'p.json');
  } catch (err) {
    if (err instanceof InputError) return err.problems;
    throw err;
  }
  return [];
}

t.test('round trip keeps rules, conditions (64-bit exact), errnos and arches', async (t) => {
  const text = JSON.stringify({
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'],
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }] },
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: '18446744073709551615', op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['mount'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    ],
  });
  const p = parseOciProfile(text, 'p.json');
  t.same(p.architectures, ['x86_64', 'aarch64']);
  t.equal(p.rules[2].args[0].value, 2n ** 64n - 1n);
  const out = serializeOci(p);
  t.match(out, /"value": 18446744073709551615,/, 'u64 written exactly');
  t.same(parseOciProfile(out, 'again.json'), p, 'parse(serialise(p)) = p');
  t.equal(serializeOci(parseOciProfile(out, 'x')), out, 'serialising is stable');
});

t.test('every problem is reported at once with its path', async (t) => {
  const list = problems(
    JSON.stringify({
      defaultAction: 'SCMP_ACT_ALLOWED',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_Z80'],
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_ALLOW' },
        { names: ['ok'], action: 'SCMP_ACT_ERRNO', args: [{ index: 7, value: 1, op: 'SCMP_CMP_EQUAL' }] },
        { action: 'SCMP_ACT_ALLOW', extra: 1 },
      ],
    }),
  );
  t.same(list, [
    'defaultAction: unknown action "SCMP_ACT_ALLOWED"',
    'architectures[1]: unknown architecture "SCMP_ARCH_Z80"',
    'syscalls[1].args[0].index: expected an integer from 0 to 5, got 7',
    'syscalls[1].args[0].op: unknown operator "SCMP_CMP_EQUAL"',
    'syscalls[2].extra: unknown field',
    'syscalls[2].names: missing',
  ]);
});

t.test('invalid JSON names the line; integers past 2^53 are read exactly or refused, never rounded', async (t) => {
  t.match(problems('{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  oops\n}'), [/^invalid JSON at line 3/]);
  const big = parseOciProfile(
    '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":9007199254740993,"op":"SCMP_CMP_EQ"}]}]}',
    'p.json',
  );
  t.equal(big.rules[0].args[0].value, 9007199254740993n, '2^53+1 stays exact');
  t.same(problems('{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":18446744073709551616,"op":"SCMP_CMP_EQ"}]}]}'), [
    'syscalls[0].args[0].value: expected an unsigned 64-bit integer, got "18446744073709551616"',
  ]);
});

t.test('the minimal profile of a recording: EPERM default, recorded arches, sorted names, numbers set apart', async (t) => {
  const rec: Recording = {
    kind: 'seccomp-recorder/recording',
    version: 1,
    identity: { command: ['x'] },
    arches: ['x86', 'x86_64'],
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:00:01.000Z',
    tool: { name: 'seccomp-recorder', version: '0' },
    stats: { notifications: 9, lost: 0 },
    observations: [
      { arch: 'x86_64', syscall: 'write', nr: 1, count: 3 },
      { arch: 'x86_64', syscall: 'read', nr: 0, count: 3 },
      { arch: 'x86', syscall: 'read', nr: 3, count: 1 },
      { arch: 'x86_64', nr: 1999, count: 2 },
    ],
  };
  const { profile, unnamed } = minimalProfile(rec);
  t.same(profile, allowListProfile(['x86', 'x86_64'], ['read', 'write']));
  t.equal(unnamed.length, 1);
  t.equal(
    serializeOci(profile),
    '{\n  "defaultAction": "SCMP_ACT_ERRNO",\n  "defaultErrnoRet": 1,\n  "architectures": [\n    "SCMP_ARCH_X86",\n    "SCMP_ARCH_X86_64"\n  ],\n' +
      '  "syscalls": [\n    {\n      "names": [\n        "read",\n        "write"\n      ],\n      "action": "SCMP_ACT_ALLOW"\n    }\n  ]\n}\n',
  );
});
