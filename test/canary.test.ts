// Canary profiles (generate --unrecorded log), the loop end to end on the real
// kernel: record a run, make the canary, run a newer version of the workload
// under it with `run` (it makes a call the recording never saw: mkdir), the
// kernel logs that call through a private auditd, import-audit reads the log,
// merge adds it, and the merged profile runs the new version where the first
// profile could not. The generator's side (defaults, baseline denials) is tested
// without the kernel first.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { DOCKER_DEFAULT_CAPS } from '../src/profile/baseline.js';
import { generateProfile } from '../src/profile/generate.js';
import type { Profile } from '../src/profile/model.js';
import { parseOciProfile, serializeOci } from '../src/profile/oci.js';
import type { Recording } from '../src/profile/recording.js';
import { parseRecording } from '../src/profile/recording.js';
import type { PrivateAuditd } from './helpers/auditd.js';
import { auditdSkipReason, saveAuditSettings, startPrivateAuditd } from './helpers/auditd.js';
import { runCli } from './helpers/cli.js';
import { recordingOfNames } from './helpers/recordings.js';
import { sharedTempDir } from './helpers/tmp.js';

const rec = (names: string[]): Recording => recordingOfNames(names);

t.test('the canary profile: default SCMP_ACT_LOG, recorded calls allowed, baseline denials kept explicit', async (t) => {
  const baseline: Profile = {
    defaultAction: { kind: 'errno' },
    defaultErrnoRet: 38,
    architectures: ['x86_64'],
    flags: [],
    rules: [{ names: ['read', 'write', 'exit_group'], action: { kind: 'allow' }, args: [] }],
  };
  const { profile, report } = generateProfile({
    recordings: [{ file: 'r.json', recording: rec(['read', 'exit_group', 'unshare']) }],
    baseline,
    caps: [...DOCKER_DEFAULT_CAPS],
    kernel: '6.18',
    unrecorded: 'log',
  });
  t.same(profile.defaultAction, { kind: 'log' });
  t.equal(profile.defaultErrnoRet, undefined);
  t.same(report.deniedByBaseline, ['unshare']);
  t.same(
    profile.rules.map((r) => [r.names, r.action]),
    [
      [['exit_group', 'read'], { kind: 'allow' }],
      [['unshare'], { kind: 'errno', ret: 38 }],
    ],
    'unshare, recorded but denied by the baseline, stays denied (ENOSYS as the baseline says) instead of being logged',
  );
  t.match(serializeOci(profile), /"defaultAction": "SCMP_ACT_LOG"/);
  const deny = generateProfile({ recordings: [{ file: 'r.json', recording: rec(['read']) }], baseline, caps: [], kernel: '6.18' });
  t.same(deny.profile.defaultAction, { kind: 'errno' }, 'without --unrecorded log the default denies');
});

const skip: string | false = process.getuid?.() !== 0 ? 'the canary loop needs root (a private auditd)' : auditdSkipReason() || (existsSync('/bin/mkdir') ? false : '/bin/mkdir is missing');

t.test('the loop: canary → a call outside it → logged by the kernel → import-audit → merge → the final profile has it', { skip }, async (t) => {
  const dir = sharedTempDir('canary', t);
  const v1 = ['/bin/sh', '-c', 'cat /etc/hostname >/dev/null'];
  const v2 = (made: string) => ['/bin/sh', '-c', `cat /etc/hostname >/dev/null; /bin/mkdir ${made}`];

  const rec1 = join(dir, 'v1.rec.json');
  const deployed = join(dir, 'v1.json');
  const r1 = await runCli(['record', '-q', '--save-recording', rec1, '-o', deployed, '--', ...v1]);
  t.equal(r1.code, 0, 'version 1 recorded', { stderr: r1.stderr });
  const recorded = parseRecording(readFileSync(rec1, 'utf8'), rec1).observations.map((o) => o.syscall);
  t.notOk(recorded.includes('mkdir') || recorded.includes('mkdirat'), 'version 1 never made a directory');

  // Version 2 under the deployed profile fails: that is what the canary saves us from.
  const blocked = await runCli(['run', '-q', '--profile', deployed, '--', ...v2(join(dir, 'blocked'))]);
  t.not(blocked.code, 0, 'version 2 fails under the profile of version 1', { stderr: blocked.stderr });
  t.notOk(existsSync(join(dir, 'blocked')));

  const canary = join(dir, 'canary.json');
  const g = await runCli(['generate', rec1, '--unrecorded', 'log', '-o', canary]);
  t.equal(g.code, 0, 'generate --unrecorded log', { stderr: g.stderr });
  t.match(g.stderr, /canary \(--unrecorded log\)/);
  t.equal(parseOciProfile(readFileSync(canary, 'utf8'), canary).defaultAction.kind, 'log');

  const restore = saveAuditSettings([]);
  let auditd: PrivateAuditd | undefined;
  t.teardown(async () => {
    await auditd?.stop();
    restore();
  });
  const auditDir = join(dir, 'audit');
  mkdirSync(auditDir);
  auditd = await startPrivateAuditd(auditDir);
  const made = join(dir, 'made-under-canary');
  const r2 = await runCli(['run', '-q', '--profile', canary, '--', ...v2(made)]);
  t.equal(r2.code, 0, 'version 2 runs under the canary', { stderr: r2.stderr });
  t.ok(existsSync(made), 'and did its new work');
  await auditd.stop();
  auditd = undefined;

  const rec2 = join(dir, 'canary.rec.json');
  const imp = await runCli(['import-audit', join(auditDir, 'audit.log'), '--image', 'app:2', '--comm', 'mkdir', '-o', rec2]);
  t.equal(imp.code, 0, 'import-audit', { stderr: imp.stderr });
  const logged = parseRecording(readFileSync(rec2, 'utf8'), rec2);
  t.ok(logged.observations.some((o) => o.syscall === 'mkdir'), 'the kernel logged mkdir, and import-audit read it');
  t.equal(logged.stats.lost, 0, 'no audit record lost');

  const final = join(dir, 'final.json');
  const m = await runCli(['merge', deployed, rec2, '-o', final]);
  t.equal(m.code, 0, 'merge', { stderr: m.stderr });
  const finalProfile = parseOciProfile(readFileSync(final, 'utf8'), final);
  t.ok(finalProfile.rules.some((r) => r.action.kind === 'allow' && r.names.includes('mkdir')), 'the final profile allows mkdir');
  t.equal(finalProfile.defaultAction.kind, 'errno', 'and denies the rest again');
  const r3 = await runCli(['run', '-q', '--profile', final, '--', ...v2(join(dir, 'made-under-final'))]);
  t.equal(r3.code, 0, 'version 2 runs under the merged profile', { stderr: r3.stderr });
  t.ok(existsSync(join(dir, 'made-under-final')));
});
