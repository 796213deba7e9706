// The equivalents table (src/profile/equivalents.ts): every name resolves on
// x86_64 and aarch64 through libseccomp or is marked arch-specific, no group
// holds a call the runtime default denies, and the choice of siblings (baseline,
// arch, argument conditions). Then the pipeline: generate marks what it adds,
// --exact leaves it out, explain/diff/SPO/merge keep it apart from recorded calls.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { DOCKER_DEFAULT_CAPS, loadBaseline, resolveBaseline } from '../src/profile/baseline.js';
import {
  ARCH_SPECIFIC,
  EQUIVALENT_GROUPS,
  EQUIVALENTS_ANNOTATION,
  EQUIVALENTS_COMMENT,
  LEFT_OUT,
  markedEquivalents,
  siblingsOf,
  siblingsToAdd,
  tableNames,
} from '../src/profile/equivalents.js';
import { explainProfile } from '../src/profile/explain.js';
import { generateProfile } from '../src/profile/generate.js';
import { mergeInputs } from '../src/profile/merge.js';
import type { Profile } from '../src/profile/model.js';
import { parseOciProfile, serializeOci } from '../src/profile/oci.js';
import type { Recording } from '../src/profile/recording.js';
import { profileFromSpoObject, parseYamlDocument, serializeSpo } from '../src/profile/spo.js';
import { syscallExistence } from '../src/seccomp/syscall-exists.js';
import { runCli } from './helpers/cli.js';
import { recordingOfNames } from './helpers/recordings.js';
import { sharedTempDir } from './helpers/tmp.js';

const CONTAINERS_COMMON = '/usr/share/containers/seccomp.json';
const noCommon = existsSync(CONTAINERS_COMMON) ? false : `${CONTAINERS_COMMON} is not installed (Debian: golang-github-containers-common)`;
const dir = sharedTempDir('equiv');

t.test('the table: every name resolves on x86_64 and aarch64, or is marked arch-specific (and is)', async (t) => {
  for (const name of tableNames()) {
    const x = syscallExistence('x86_64', name);
    const a = syscallExistence('aarch64', name);
    t.not(x, 'unknown', `libseccomp knows ${name}`);
    if (ARCH_SPECIFIC[name]) {
      t.ok(x === 'absent' || a === 'absent', `${name} is marked arch-specific and is absent on x86_64 or aarch64`);
      const somewhere = ['x86_64', 'aarch64', 'x86', 'arm', 'ppc64le', 'ppc', 's390x', 'mips'].some((arch) => syscallExistence(arch, name) === 'exists');
      t.ok(somewhere, `${name} exists on some arch`);
    } else {
      t.equal(x, 'exists', `${name} on x86_64`);
      t.equal(a, 'exists', `${name} on aarch64`);
    }
  }
  for (const name of Object.keys(ARCH_SPECIFIC)) t.ok(tableNames().includes(name), `${name} (arch-specific) is in a group`);
  for (const g of EQUIVALENT_GROUPS) t.ok(g.why.length > 20, `group ${g.id} says why`);
});

t.test('the table keeps apart what LEFT_OUT says it must', async (t) => {
  for (const out of LEFT_OUT) {
    for (const a of out.names) for (const b of out.names) if (a !== b) t.notOk(siblingsOf(a).includes(b), `${b} is not added for ${a}: ${out.why}`);
  }
  t.notOk(tableNames().includes('clone3'), 'clone3 is in no group');
  t.notOk(tableNames().includes('pwritev2'), 'pwritev2 is in no group');
});

t.test("no group includes a call the runtime default (containers-common) denies, on x86_64, aarch64, x86 and arm", { skip: noCommon }, async (t) => {
  const baseline = loadBaseline(CONTAINERS_COMMON);
  for (const arch of ['x86_64', 'aarch64', 'x86', 'arm']) {
    const resolved = resolveBaseline(baseline, { arches: [arch], caps: [...DOCKER_DEFAULT_CAPS], kernel: '6.18' });
    const allowedPlain = new Set(resolved.rules.filter((r) => r.action.kind === 'allow' && !r.args.length).flatMap((r) => r.names));
    const denied = tableNames().filter((n) => syscallExistence(arch, n) === 'exists' && !allowedPlain.has(n));
    t.same(denied, [], `every table name that exists on ${arch} is allowed by the default there`);
  }
});

t.test('siblings: symmetric groups, narrower members, arch, baseline and argument conditions', async (t) => {
  const add = (recorded: string[], arches = ['x86_64'], treatment?: (n: string) => 'plain' | 'conditional' | 'denied') =>
    siblingsToAdd({ recorded, arches, treatment });
  t.same([...add(['pwrite64']).added], [['pwritev', ['pwrite64']]], 'the PostgreSQL case: pwrite64 brings pwritev');
  t.notOk(add(['pwrite64']).added.has('pwritev2'), 'never pwritev2');
  t.same([...add(['fstat']).added.keys()], [], 'fstat (fd only) brings no path stat on x86_64 (fstat64 is absent there)');
  t.same([...add(['fstat'], ['x86']).added.keys()], ['fstat64'], 'fstat brings its 32-bit twin on x86');
  const stat = [...add(['newfstatat']).added.keys()];
  t.ok(stat.includes('fstat') && stat.includes('statx') && stat.includes('stat') && !stat.includes('stat64'), `newfstatat brings fstat, statx, stat, no stat64 on x86_64: ${stat}`);
  t.same([...add(['open'], ['aarch64']).added.keys()], ['openat', 'openat2'], 'per arch: aarch64 has no creat');
  t.same([...add(['open'], ['x86_64']).added.keys()], ['creat', 'openat', 'openat2']);
  t.same([...add(['send'], ['x86_64']).added.keys()], [], 'send brings nothing (sendto is wider)');
  const cond = add(['openat'], ['x86_64'], (n) => (n === 'openat' ? 'conditional' : 'plain'));
  t.same([...cond.added.keys()], [], 'a recorded call under argument conditions brings no sibling');
  t.match(cond.skipped, [{ syscall: 'open', why: /argument conditions/ }, { syscall: 'openat2', why: /argument conditions/ }, { syscall: 'creat' }].sort((a, b) => a.syscall.localeCompare(b.syscall)));
  const denied = add(['pwrite64'], ['x86_64'], (n) => (n === 'pwritev' ? 'denied' : 'plain'));
  t.same([...denied.added.keys()], []);
  t.same(denied.skipped, [{ syscall: 'pwritev', for: ['pwrite64'], why: 'the baseline denies it' }]);
  t.same([...add(['pwrite64', 'pwritev']).added.keys()], [], 'nothing added that was recorded');
});

const rec = (names: string[], arch = 'x86_64'): Recording => recordingOfNames(names, { command: ['postgres'] }, arch);

const gen = (names: string[], equivalents: boolean, baseline?: Profile) =>
  generateProfile({ recordings: [{ file: 'r.json', recording: rec(names) }], baseline, caps: [...DOCKER_DEFAULT_CAPS], kernel: '6.18', equivalents });

t.test('generate: siblings in their own marked rule, reported; off means exactly what was recorded', async (t) => {
  const on = gen(['pwrite64', 'read', 'write', 'exit_group'], true);
  t.same(on.report.equivalents, [
    { syscall: 'pwritev', for: ['pwrite64'] },
    { syscall: 'readv', for: ['read'] },
    { syscall: 'writev', for: ['write'] },
  ]);
  const marked = on.profile.rules.filter((r) => r.comment === EQUIVALENTS_COMMENT);
  t.same(marked.map((r) => r.names), [['pwritev', 'readv', 'writev']]);
  t.same(on.profile.rules[0].names, ['exit_group', 'pwrite64', 'read', 'write'], 'recorded calls first, unmarked');
  const text = serializeOci(on.profile);
  t.match(text, EQUIVALENTS_COMMENT, 'the OCI JSON carries the marker');
  t.same(markedEquivalents(parseOciProfile(text, 'x')), ['pwritev', 'readv', 'writev'], 'and reads back');
  t.equal(serializeOci(gen(['write', 'read', 'pwrite64', 'exit_group'], true).profile), text, 'deterministic');
  const off = gen(['pwrite64', 'read', 'write', 'exit_group'], false);
  t.same(off.report.equivalents, []);
  t.same(off.profile.rules.flatMap((r) => r.names).sort(), ['exit_group', 'pwrite64', 'read', 'write']);
});

t.test('generate on a baseline: a sibling it denies is not added; one it conditions keeps the conditions', async (t) => {
  const baseline: Profile = {
    defaultAction: { kind: 'errno' },
    defaultErrnoRet: 1,
    architectures: ['x86_64'],
    flags: [],
    rules: [
      { names: ['pwrite64', 'read', 'write', 'exit_group', 'writev'], action: { kind: 'allow' }, args: [] },
      { names: ['readv'], action: { kind: 'allow' }, args: [{ index: 2, op: 'le', value: 8n, valueTwo: 0n }] },
    ],
  };
  const r = gen(['pwrite64', 'read', 'write', 'exit_group'], true, baseline);
  t.same(r.report.equivalents.map((e) => e.syscall), ['readv', 'writev']);
  t.same(r.report.equivalentsSkipped, [{ syscall: 'pwritev', for: ['pwrite64'], why: 'the baseline denies it' }]);
  const readv = r.profile.rules.find((x) => x.names.includes('readv'))!;
  t.same(readv.args, [{ index: 2, op: 'le', value: 8n, valueTwo: 0n }], "the baseline's condition on the sibling is kept");
  t.equal(readv.comment, EQUIVALENTS_COMMENT);
});

t.test('explain, SPO, merge and diff keep added siblings apart from recorded calls', async (t) => {
  const { profile } = gen(['pwrite64', 'read', 'exit_group'], true);
  const ex = explainProfile(profile);
  t.same(ex.equivalents, ['preadv', 'pwritev', 'readv'].filter((n) => profile.rules.some((r) => r.names.includes(n))));
  t.ok(ex.equivalents.includes('pwritev'));

  const yaml = serializeSpo(profile, { name: 'pg' });
  t.notMatch(yaml, /comment/, 'no comment field in the SPO spec');
  const doc = parseYamlDocument(yaml, 'pg.yaml') as { metadata: { annotations: Record<string, string> } };
  t.same(JSON.parse(doc.metadata.annotations[EQUIVALENTS_ANNOTATION]), ex.equivalents);
  t.same(markedEquivalents(profileFromSpoObject(doc, 'pg.yaml').profile), ex.equivalents, 'the annotation marks them again on reading');

  // A later recording that did call pwritev: merged, it is recorded, no longer only an equivalent.
  const merged = mergeInputs([
    { file: 'deployed.json', kind: 'profile', profile },
    { file: 'canary.json', kind: 'recording', recording: rec(['pwritev']) },
  ]);
  t.notOk(markedEquivalents(merged.profile).includes('pwritev'));
  t.ok(markedEquivalents(merged.profile).includes('readv'));

  const exact = gen(['pwrite64', 'read', 'exit_group'], false).profile;
  const oldFile = join(dir, 'exact.json');
  const newFile = join(dir, 'equiv.json');
  writeFileSync(oldFile, serializeOci(exact));
  writeFileSync(newFile, serializeOci(profile));
  const d = await runCli(['diff', oldFile, newFile, '--fail-on', 'never']);
  t.equal(d.code, 0, d.stderr);
  t.match(d.stdout, /pwritev\s+now allowed[^\n]*\n\s+new profile: an equivalent of a recorded call, not recorded itself/);
  const j = await runCli(['diff', oldFile, newFile, '--format', 'json', '--fail-on', 'never']);
  const json = JSON.parse(j.stdout) as { new: { equivalents: string[] }; changes: { syscall?: string; equivalentIn: string | null }[] };
  t.same(json.new.equivalents, ex.equivalents);
  t.equal(json.changes.find((c) => c.syscall === 'pwritev')?.equivalentIn, 'new');
  const e = await runCli(['explain', newFile, '--no-baseline']);
  t.match(e.stdout, /not recorded, allowed as equivalents of recorded calls: .*pwritev/);
});

t.test('CLI: record -o and generate add siblings by default; --exact does not', async (t) => {
  const recFile = join(dir, 'cat.rec.json');
  const out = join(dir, 'cat.json');
  const r = await runCli(['record', '--save-recording', recFile, '-o', out, '--', '/bin/sh', '-c', 'cat /etc/hostname >/dev/null']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /added \d+ equivalents? of recorded calls \(not recorded\): .*readv \(for read\).*\(--exact leaves them out\)/);
  const p = parseOciProfile(readFileSync(out, 'utf8'), out);
  t.ok(markedEquivalents(p).includes('readv'));
  const exactOut = join(dir, 'cat.exact.json');
  const r2 = await runCli(['record', '--exact', '-q', '-o', exactOut, '--', '/bin/sh', '-c', 'cat /etc/hostname >/dev/null']);
  t.equal(r2.code, 0, r2.stderr);
  t.same(markedEquivalents(parseOciProfile(readFileSync(exactOut, 'utf8'), exactOut)), []);

  const g = await runCli(['generate', recFile, '--no-baseline', '-o', join(dir, 'gen.json')]);
  t.equal(g.code, 0, g.stderr);
  t.match(g.stderr, /added \d+ equivalents? of recorded calls/);
  t.ok(markedEquivalents(parseOciProfile(readFileSync(join(dir, 'gen.json'), 'utf8'), 'gen.json')).includes('readv'));
  const ge = await runCli(['generate', recFile, '--no-baseline', '--exact', '-o', join(dir, 'gen.exact.json')]);
  t.equal(ge.code, 0, ge.stderr);
  t.notMatch(ge.stderr, /equivalents/);
  t.same(markedEquivalents(parseOciProfile(readFileSync(join(dir, 'gen.exact.json'), 'utf8'), 'x')), []);
});
