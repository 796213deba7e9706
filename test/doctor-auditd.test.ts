// doctor's auditd line: auditd has no --version, so its version comes from
// `auditctl -v`, else from dpkg-query, else it is reported present without
// one; without auditd it says "not installed". The fallbacks are exercised
// with PATHs holding only some of the real tools.
import { spawnSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { auditdCheck } from '../src/cli/doctor.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const which = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8', env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` } }).stdout.trim() || undefined;
const auditd = which('auditd');
const auditctl = which('auditctl');
const dpkgQuery = which('dpkg-query');
const skip = !auditd || !auditctl ? 'auditd/auditctl not installed (.ci/run installs auditd)' : false;

/** A PATH of one directory holding links to just these tools. */
function pathWith(...tools: (string | undefined)[]): NodeJS.ProcessEnv {
  const dir = tempDir('doctor-path');
  for (const tool of tools) if (tool) symlinkSync(tool, join(dir, tool.split('/').pop()!));
  return { PATH: dir };
}

t.test('the version auditctl -v reports, never an error of auditd --version', { skip }, async (t) => {
  const version = /version (\S+)/.exec(spawnSync(auditctl!, ['-v'], { encoding: 'utf8' }).stdout)![1];
  const check = auditdCheck(pathWith(auditd, auditctl));
  t.equal(check.ok, true);
  t.match(check.detail, `version ${version} (auditctl -v)`);
  const r = await runCli(['doctor', '--json'], { timeoutMs: 60_000 });
  const line = (JSON.parse(r.stdout) as { checks: { name: string; detail: string }[] }).checks.find((c) => c.name === 'auditd');
  t.match(line?.detail, `version ${version}`, 'doctor itself reports it');
  t.notMatch(r.stdout, /unrecognized option/);
});

t.test('without auditctl: the package database', { skip: skip || (!dpkgQuery && 'dpkg-query not installed (not a Debian system)') }, async (t) => {
  const version = spawnSync(dpkgQuery!, ['-W', '-f', '${Version}', 'auditd'], { encoding: 'utf8' }).stdout.trim();
  t.match(auditdCheck(pathWith(auditd, dpkgQuery)).detail, `version ${version} (dpkg-query)`);
});

t.test('neither answers: present, version unknown; no auditd: not installed', { skip }, async (t) => {
  const present = auditdCheck(pathWith(auditd));
  t.equal(present.ok, true);
  t.match(present.detail, 'version unknown');
  const absent = auditdCheck(pathWith());
  t.equal(absent.ok, false);
  t.match(absent.detail, /^not installed/);
});
