// The built CLI: `seccomp-recorder diff` exit codes (0, 1 per --fail-on, 2),
// the three formats, stdin, named input errors, and colour on a real
// pseudo-terminal (util-linux `script`) switched off by NO_COLOR. Also the
// libseccomp behaviour the canonical view rests on, checked on the real library.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { canonicalProfile, treatmentOf } from '../src/profile/canonical.js';
import type { Profile, Rule } from '../src/profile/model.js';
import { compileProfile } from '../src/seccomp/compile.js';
import { libseccompVersion } from '../src/seccomp/libseccomp.js';
import { CLI, REPO, runCli } from './helpers/cli.js';
import { hasCommand } from './helpers/fixtures.js';

const FIX = 'test/fixtures/diff/';
const APP = `${FIX}app.json`;
const WIDENED = `${FIX}app-widened.json`;
const ERRNO = `${FIX}app-errno.json`;
const RESPLIT = `${FIX}app-resplit.yaml`;
const SUMMARY_WIDENS = '+3 allowed, -1 allowed, 0 changed conditions (widens)';
const lastLine = (s: string) => s.trimEnd().split('\n').pop();

t.test('text: a widening fails by default (exit 1); the summary ends the output', async (t) => {
  const r = await runCli(['diff', APP, WIDENED]);
  t.equal(r.code, 1, r.stderr);
  t.equal(r.stderr, '');
  t.match(r.stdout, /^--- test\/fixtures\/diff\/app\.json \(OCI JSON\)\n\+\+\+ test\/fixtures\/diff\/app-widened\.json \(OCI JSON\)\n/);
  t.match(r.stdout, /\nwiden +unshare +now allowed: ERRNO\(EPERM\) \(default\) → ALLOW\n +dangerous: .*CVE-2022-0185/);
  t.notMatch(r.stdout, /\u001b\[/, 'no colour into a pipe');
  t.equal(lastLine(r.stdout), SUMMARY_WIDENS);
});

t.test('--fail-on: widen, any, never', async (t) => {
  const cases: [string, string, string, number][] = [
    [APP, WIDENED, 'never', 0],
    [APP, WIDENED, 'any', 1],
    [APP, ERRNO, 'widen', 0],
    [APP, ERRNO, 'any', 1],
    [APP, RESPLIT, 'any', 0],
    [WIDENED, APP, 'widen', 1],
  ];
  for (const [a, b, policy, code] of cases) {
    const r = await runCli(['diff', a, b, '--fail-on', policy]);
    t.equal(r.code, code, `${a} → ${b} --fail-on ${policy}: ${r.stderr}`);
  }
  const same = await runCli(['diff', APP, RESPLIT]);
  t.equal(same.code, 0);
  t.equal(lastLine(same.stdout), '+0 allowed, -0 allowed, 0 changed conditions (no change)', 'OCI JSON and its re-split SPO YAML mean the same');
});

t.test('markdown: a table for $GITHUB_STEP_SUMMARY, summary last', async (t) => {
  const r = await runCli(['diff', APP, WIDENED, '--format', 'markdown']);
  t.equal(r.code, 1);
  t.match(r.stdout, /^### seccomp profile diff\n/);
  t.match(r.stdout, /\| \*\*widen\*\* \| `unshare` \| now allowed \|/);
  t.equal(lastLine(r.stdout), `**${SUMMARY_WIDENS}**`);
});

t.test('json: one document on stdout, the summary line on stderr', async (t) => {
  const r = await runCli(['diff', APP, RESPLIT, '--format', 'json', '--fail-on', 'any']);
  t.equal(r.code, 0);
  const doc = JSON.parse(r.stdout);
  t.match(doc, { kind: 'seccomp-recorder/diff', version: 2, old: { file: APP, format: 'oci' }, new: { file: RESPLIT, format: 'spo', name: 'app' }, failOn: 'any', failed: false, verdict: 'none', changes: [] });
  t.equal(r.stderr, '+0 allowed, -0 allowed, 0 changed conditions (no change)\n');
  const w = await runCli(['diff', APP, WIDENED, '--format', 'json']);
  t.equal(w.code, 1);
  const wd = JSON.parse(w.stdout);
  t.same(wd.changes.map((c: { syscall: string; class: string }) => `${c.class} ${c.syscall}`), ['widen getpid', 'narrow mkdirat', 'widen uname', 'widen unshare']);
  t.same(wd.changes[0].arches, ['x86', 'x86_64'], 'checked on both listed arches through libseccomp');
});

t.test('- reads stdin (git show origin/main:profile | diff - profile)', async (t) => {
  const r = await runCli(['diff', '-', WIDENED], { input: readFileSync(join(REPO, APP), 'utf8') });
  t.equal(r.code, 1, r.stderr);
  t.match(r.stdout, /^--- <stdin> \(OCI JSON\)\n/);
  t.equal(lastLine(r.stdout), SUMMARY_WIDENS);
  const yaml = await runCli(['diff', APP, '-'], { input: readFileSync(join(REPO, RESPLIT), 'utf8') });
  t.equal(yaml.code, 0, yaml.stderr);
  t.match(yaml.stdout, /\+\+\+ <stdin> \(SPO SeccompProfile "app"\)/);
  const both = await runCli(['diff', '-', '-']);
  t.equal(both.code, 2);
  t.equal(both.stderr, 'error: only one of <old> and <new> can be - (stdin)\n');
});

t.test('input errors name the file and exit 2, with nothing on stdout', async (t) => {
  const cases: [string[], RegExp][] = [
    [['diff', `${FIX}nope.json`, APP], /^error: test\/fixtures\/diff\/nope\.json: cannot read: no such file\n$/],
    [['diff', APP, `${FIX}bad-action.json`], /^error: test\/fixtures\/diff\/bad-action\.json: syscalls\[0\]\.action: unknown action "SCMP_ACT_PERMIT"\n$/],
    [['diff', `${FIX}bad.yaml`, APP], /^error: test\/fixtures\/diff\/bad\.yaml: invalid YAML at line \d+/],
    [['diff', FIX, APP], /^error: test\/fixtures\/diff\/: cannot read: is a directory\n$/],
  ];
  for (const [args, want] of cases) {
    const r = await runCli(args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, want);
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
    t.equal(r.stdout, '');
  }
  const empty = await runCli(['diff', '-', APP], { input: '' });
  t.equal(empty.code, 2);
  t.equal(empty.stderr, 'error: <stdin>: empty file\n');
});

t.test('usage errors exit 2', async (t) => {
  for (const args of [['diff', APP, WIDENED, '--format', 'xml'], ['diff', APP, WIDENED, '--fail-on', 'sometimes'], ['diff', APP]]) {
    const r = await runCli(args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, /error: /);
  }
});

const noScript = hasCommand('script') ? false : 'util-linux script is not installed (needed for a pseudo-terminal)';

t.test('colour on a terminal, none with NO_COLOR', { skip: noScript }, async (t) => {
  // `script` gives the command a real pseudo-terminal as stdout; -e keeps its exit status.
  const onTty = (env: NodeJS.ProcessEnv) => {
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} diff ${APP} ${WIDENED} --fail-on never`;
    return execFileSync('script', ['-qec', cmd, '/dev/null'], { cwd: REPO, env, encoding: 'utf8' });
  };
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm' };
  delete env.NO_COLOR;
  const coloured = onTty(env);
  t.match(coloured, /\u001b\[31mwiden/, 'widenings in red on a terminal');
  t.match(coloured, /\u001b\[1;31mdangerous: /, 'dangerous reasons in bold red');
  const plain = onTty({ ...env, NO_COLOR: '1' });
  t.notMatch(plain, /\u001b\[/, 'NO_COLOR: no escape codes');
  t.match(plain, /widen +unshare/);
});

const COMMON = '/usr/share/containers/seccomp.json';
const noCommon = existsSync(COMMON) ? false : `${COMMON} is not installed (Debian: golang-github-containers-common)`;

t.test('a runtime default with includes/excludes is resolved for this machine first', { skip: noCommon }, async (t) => {
  const same = await runCli(['diff', COMMON, COMMON, '--fail-on', 'any']);
  t.equal(same.code, 0, same.stderr);
  t.match(same.stdout, /note: \/usr\/share\/containers\/seccomp\.json: Docker-shaped includes\/excludes resolved for this machine/);
  t.equal(lastLine(same.stdout), '+0 allowed, -0 allowed, 0 changed conditions (no change)');
  const r = await runCli(['diff', APP, COMMON, '--format', 'json']);
  t.equal(r.code, 1, 'the runtime default allows far more than the app profile');
  const doc = JSON.parse(r.stdout);
  t.ok(doc.summary.allowed > 200, `${doc.summary.allowed} syscalls more`);
  // Asked of the file itself, so the check cannot pass for want of the thing checked.
  const raw = JSON.parse(readFileSync(COMMON, 'utf8')) as { syscalls: { names: string[]; action: string; args?: unknown[] }[] };
  const allowsUnshare = raw.syscalls.some((r) => r.action === 'SCMP_ACT_ALLOW' && r.names.includes('unshare') && !r.args?.length);
  const unshare = doc.changes.find((c: { syscall?: string }) => c.syscall === 'unshare');
  if (allowsUnshare) {
    t.ok(unshare, 'unshare, which this containers-common allows, is among the widenings');
    t.ok(unshare?.danger, 'and marked dangerous');
  } else {
    t.equal(unshare, undefined, 'this containers-common does not allow unshare: no change for it');
    t.comment(`skipped the dangerous-mark check: ${COMMON} does not allow unshare unconditionally`);
  }
  t.match(doc.changes.find((c: { kind: string }) => c.kind === 'default-errno'), { class: 'neutral', new: { errnoRet: 38 } }, "containers-common's ENOSYS default");
});

let noLibseccomp: string | false = false;
try {
  libseccompVersion();
} catch (err) {
  noLibseccomp = `libseccomp is not available: ${(err as Error).message}`;
}

t.test('libseccomp: an unconditional rule overrides conditional ones, the first unconditional one wins', { skip: noLibseccomp }, async (t) => {
  const eq40: Rule['args'] = [{ index: 0, op: 'eq', value: 40n, valueTwo: 0n }];
  const cases: Rule[][] = [
    [{ names: ['socket'], action: { kind: 'allow' }, args: [] }, { names: ['socket'], action: { kind: 'errno', ret: 13 }, args: eq40 }],
    [{ names: ['socket'], action: { kind: 'errno', ret: 13 }, args: eq40 }, { names: ['socket'], action: { kind: 'allow' }, args: [] }],
    [{ names: ['socket'], action: { kind: 'log' }, args: [] }, { names: ['socket'], action: { kind: 'allow' }, args: [] }],
    [{ names: ['socket'], action: { kind: 'allow' }, args: [] }, { names: ['socket'], action: { kind: 'log' }, args: [] }],
    [{ names: ['socket'], action: { kind: 'errno', ret: 13 }, args: [] }, { names: ['socket'], action: { kind: 'allow' }, args: [] }],
    [{ names: ['socket'], action: { kind: 'errno' }, args: [] }, { names: ['socket'], action: { kind: 'kill-process' }, args: [] }],
  ];
  const PFC_NAME = { allow: 'ALLOW', log: 'LOG', errno: 'ERRNO', 'kill-process': 'KILL_PROCESS' } as Record<string, string>;
  for (const rules of cases) {
    const profile: Profile = { defaultAction: { kind: 'errno' }, architectures: ['x86_64'], rules, flags: [] };
    const want = treatmentOf(canonicalProfile(profile), 'socket');
    t.equal(want.via, 'rule');
    const u = want.unconditional!;
    const pfc = compileProfile(profile, { arches: ['x86_64'], pfc: true }).pfc!;
    const block = pfc.slice(pfc.indexOf('if ($syscall == 41)'), pfc.indexOf('# default action'));
    const label = `${PFC_NAME[u.kind]}${u.kind === 'errno' ? `(${u.ret})` : ''}`;
    t.match(block, new RegExp(`^if \\(\\$syscall == 41\\)\\n\\s+action ${label.replace(/[()]/g, '\\$&')};\\n\\s*$`), `${rules.map((r) => r.action.kind + (r.args.length ? '?' : '')).join(', ')} → ${label}`);
  }
});
