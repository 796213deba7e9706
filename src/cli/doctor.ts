// `seccomp-recorder doctor`: what this machine can do, checked for real.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import type { Logger } from 'pino';
import { compatAbiReport } from '../record/abi-probe.js';
import { bpfStatus } from '../record/bpf/status.js';
import { recordCommand } from '../record/notify/command.js';
import { nativeBuildStatus } from '../record/native.js';
import { libseccomp, libseccompVersion } from '../seccomp/libseccomp.js';
import { TOOL } from '../version.js';
import type { CommonOptions } from './common.js';
import { loggerFor, reportError, withCommonOptions, writeStdout } from './common.js';

export interface Check {
  name: string;
  ok: boolean;
  /** Needed for `record`; other checks only inform. */
  required: boolean;
  detail: string;
}

function tryRead(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function toolVersion(cmd: string): Check {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8', timeout: 5000 });
  if (r.error) return { name: cmd, ok: false, required: false, detail: 'not installed' };
  const first = `${r.stdout}${r.stderr}`.split('\n').find((l) => l.trim()) ?? '';
  return { name: cmd, ok: r.status === 0, required: false, detail: first.trim() };
}

/** The first executable `name` on the PATH of `env`. */
function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(':').filter(Boolean)) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      if (statSync(path).isFile()) return path;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/**
 * auditd's presence and version. auditd has no --version; its package's
 * `auditctl -v` prints the version of the audit userspace both come from, and
 * Debian's package database knows it too. Tried in that order.
 */
export function auditdCheck(env: NodeJS.ProcessEnv = process.env): Check {
  const daemon = onPath('auditd', env);
  if (!daemon) return { name: 'auditd', ok: false, required: false, detail: 'not installed (the audit source then reads the kernel log; apt-get install auditd)' };
  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000, env });
    return r.error || r.status !== 0 ? undefined : `${r.stdout}${r.stderr}`;
  };
  const fromAuditctl = /version (\S+)/.exec(run('auditctl', ['-v']) ?? '')?.[1];
  if (fromAuditctl) return { name: 'auditd', ok: true, required: false, detail: `${daemon}, version ${fromAuditctl} (auditctl -v)` };
  const fromDpkg = run('dpkg-query', ['-W', '-f', '${Version}', 'auditd'])?.trim();
  if (fromDpkg) return { name: 'auditd', ok: true, required: false, detail: `${daemon}, version ${fromDpkg} (dpkg-query)` };
  return { name: 'auditd', ok: true, required: false, detail: `${daemon}, version unknown (neither auditctl -v nor dpkg-query answered)` };
}

export async function runChecks(logger: Logger): Promise<Check[]> {
  const checks: Check[] = [];
  checks.push({ name: 'kernel', ok: true, required: false, detail: `Linux ${release()} (${process.arch})` });
  for (const abi of await compatAbiReport()) checks.push({ name: abi.name, ok: abi.ok, required: false, detail: abi.detail });
  const actions = tryRead('/proc/sys/kernel/seccomp/actions_avail');
  checks.push({
    name: 'seccomp actions',
    ok: !!actions && actions.includes('user_notif'),
    required: true,
    detail: actions ? actions : 'cannot read /proc/sys/kernel/seccomp/actions_avail (kernel without seccomp?)',
  });
  checks.push({
    name: 'SECCOMP_RET_LOG',
    ok: !!actions && actions.includes('log'),
    required: false,
    detail: actions?.includes('log') ? 'available (audit source)' : 'missing',
  });
  try {
    const lib = libseccomp();
    checks.push({ name: 'libseccomp', ok: true, required: true, detail: `${libseccompVersion()}, API level ${lib.apiLevel}` });
  } catch (err) {
    checks.push({ name: 'libseccomp', ok: false, required: true, detail: (err as Error).message });
  }
  const build = nativeBuildStatus();
  checks.push({ name: 'native build', ok: build.ok, required: true, detail: build.ok ? 'addon and launcher present' : `${build.addon}; ${build.launcher}` });
  if (build.ok) {
    try {
      const { recording, result } = await recordCommand({ command: ['true'], logger });
      const n = recording.observations.length;
      checks.push({
        name: 'user-notify recording',
        ok: n > 0 && result.exitCode === 0,
        required: true,
        detail: `recorded \`true\`: ${n} syscalls, ${recording.stats.notifications} notifications; ` +
          `sync wake-up ${result.session?.syncWakeup ? 'on' : 'unavailable (Linux < 6.6: recording is slower)'}`,
      });
    } catch (err) {
      checks.push({ name: 'user-notify recording', ok: false, required: true, detail: (err as Error).message });
    }
  }
  if (build.ok) {
    const bpf = bpfStatus();
    checks.push({ name: 'bpf source', ok: bpf.ok, required: false, detail: bpf.ok ? bpf.detail : `not available: ${bpf.detail}` });
  }
  const yama = tryRead('/proc/sys/kernel/yama/ptrace_scope');
  checks.push({
    name: 'ptrace scope',
    ok: yama === undefined || Number(yama) < 2,
    required: false,
    detail: yama === undefined ? 'no Yama LSM (pidfd_getfd from a parent allowed)' : `yama ptrace_scope=${yama}${Number(yama) >= 2 ? ' (non-root record will fail to take the listener)' : ''}`,
  });
  for (const tool of ['runc', 'crun', 'podman', 'strace']) checks.push(toolVersion(tool));
  checks.push(auditdCheck());
  checks.push(...auditChecks());
  return checks;
}

/** What `agent --source audit` depends on (informational). */
export function auditChecks(): Check[] {
  const checks: Check[] = [];
  const logged = tryRead('/proc/sys/kernel/seccomp/actions_logged');
  checks.push({
    name: 'seccomp actions_logged',
    ok: !!logged && logged.split(/\s+/).includes('log'),
    required: false,
    detail: logged === undefined
      ? 'cannot read /proc/sys/kernel/seccomp/actions_logged'
      : `${logged}${logged.split(/\s+/).includes('log') ? '' : ' (no "log": SCMP_ACT_LOG writes no audit record; sysctl -w kernel.seccomp.actions_logged="... log")'}`,
  });
  const auditctl = spawnSync('auditctl', ['-s'], { encoding: 'utf8', timeout: 5000 });
  const auditdPid = /^pid (\d+)$/m.exec(auditctl.stdout ?? '')?.[1];
  checks.push({
    name: 'auditctl',
    ok: !auditctl.error,
    required: false,
    detail: auditctl.error
      ? 'not installed: the audit source cannot read the kernel\'s lost counter (apt-get install auditd)'
      : auditctl.status === 0
        ? `audit daemon ${auditdPid && auditdPid !== '0' ? `pid ${auditdPid}: the audit source follows its log` : 'not running: the audit source reads the kernel log'}`
        : `present, but \`auditctl -s\` failed (root needed): ${(auditctl.stderr ?? '').trim().split('\n')[0]}`,
  });
  const ratelimit = tryRead('/proc/sys/kernel/printk_ratelimit');
  const noAuditd = !auditdPid || auditdPid === '0';
  checks.push({
    name: 'printk_ratelimit',
    ok: ratelimit === '0' || !noAuditd,
    required: false,
    detail: ratelimit === undefined
      ? 'cannot read /proc/sys/kernel/printk_ratelimit'
      : ratelimit === '0'
        ? '0 (kernel-log audit records are not rate limited)'
        : `${ratelimit} s${noAuditd ? ': without auditd, audit records past the burst are dropped; sysctl -w kernel.printk_ratelimit=0 while recording' : ' (only matters without auditd)'}`,
  });
  return checks;
}

export function doctorCommandSpec(): Command {
  const cmd = new Command('doctor')
    .summary('report what this machine supports: seccomp actions, user-notify, the bpf source, libseccomp, native build, runtimes')
    .option('--json', 'machine-readable output')
    .action(async (opts: CommonOptions & { json?: boolean }) => {
      try {
        const checks = await runChecks(loggerFor(opts));
        const ok = checks.every((c) => c.ok || !c.required);
        if (opts.json) await writeStdout(`${JSON.stringify({ tool: TOOL, ok, checks }, null, 2)}\n`);
        else {
          const width = Math.max(...checks.map((c) => c.name.length));
          const lines = checks.map((c) => `${c.ok ? 'ok  ' : c.required ? 'FAIL' : '--  '} ${c.name.padEnd(width)}  ${c.detail}`);
          await writeStdout(`${TOOL.name} ${TOOL.version}\n${lines.join('\n')}\n${ok ? 'ready to record' : 'cannot record on this machine: see FAIL lines'}\n`);
        }
        process.exitCode = ok ? 0 : 1;
      } catch (err) {
        process.exitCode = reportError(err, opts.debug === true);
      }
    });
  return withCommonOptions(cmd);
}
