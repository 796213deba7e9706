// `seccomp-recorder agent --source audit` end to end, through the built CLI:
// the profile printed by `recording-profile --mode log` is given to a runc
// container with CRI annotations, and `recordings show IMAGE` must list the
// workload's calls under that image — read from the kernel log (no auditd),
// then from a private auditd's log. No runtime socket is opened in audit mode.
// printk and audit settings changed here are restored; the auditd started
// here is stopped.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import type { ImageDetail } from '../src/agent/views.js';
import { formatShow } from '../src/cli/recordings.js';
import { criAnnotations, runAnnotated } from './helpers/agent-bundle.js';
import type { PrivateAuditd } from './helpers/auditd.js';
import { auditdSkipReason, saveAuditSettings, startPrivateAuditd } from './helpers/auditd.js';
import type { AgentProcess } from './helpers/agent-process.js';
import { eventually, startAgent } from './helpers/agent-process.js';
import { containerSkipReason } from './helpers/bundle.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const work = tempDir('audit-agent-cli');

t.test('recording-profile --mode log: a SCMP_ACT_LOG profile that validate accepts; notify-only options refused', async (t) => {
  const r = await runCli(['recording-profile', '--mode', 'log']);
  t.equal(r.code, 0, r.stderr);
  const profile = JSON.parse(r.stdout) as { defaultAction: string; architectures: string[]; syscalls: unknown[]; listenerPath?: string };
  t.equal(profile.defaultAction, 'SCMP_ACT_LOG');
  t.ok(profile.architectures.length > 0, `architectures: ${profile.architectures.join(',')}`);
  t.same(profile.syscalls, [], 'no rule: every call is logged');
  t.notOk('listenerPath' in profile, 'no listener: the audit source needs none');
  t.match(r.stderr, /SCMP_ACT_LOG.*agent --source audit/);
  const file = join(work, 'record-log.json');
  writeFileSync(file, r.stdout);
  const v = await runCli(['validate', file]);
  t.equal(v.code, 0, v.stdout + v.stderr);
  t.match(v.stdout, /valid/);

  const bad = await runCli(['recording-profile', '--mode', 'log', '--runtime', 'crun']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--runtime: only for --mode notify/);
  t.equal(bad.stdout, '', 'nothing printed on a usage error');
});

t.test('agent: --audit-log without --source audit is a usage error', async (t) => {
  const r = await runCli(['agent', '--audit-log', '/var/log/audit/audit.log', '--state-dir', join(work, 'unused'), '--api-socket', join(work, 'unused.sock')]);
  t.equal(r.code, 2);
  t.match(r.stderr, /--audit-log and --audit-mode apply to --source audit/);
});

t.test('recordings show says INCOMPLETE when calls or audit records were lost', async (t) => {
  const detail: ImageDetail = {
    image: 'app:1', containers: 1, liveContainers: 1, syscalls: 1, firstSeen: '2025-01-01T00:00:00.000Z', lastActivity: '2025-01-01T00:00:01.000Z',
    runtimes: ['runc'], sources: ['bundle-config'], notifications: 10, lost: 0, incomplete: false, assumed: [],
    calls: [{ arch: 'x86_64', syscall: 'read', nr: 0, count: 10 }], runtimeCalls: {}, groups: [], namespaces: [], privileged: false, gaps: [],
  };
  t.notMatch(formatShow(detail), /INCOMPLETE/);
  t.match(formatShow({ ...detail, lost: 5, incomplete: true }), /^INCOMPLETE: +at least 5 calls or audit records went missing/m);
});

// ---- the real kernel ----
const skip: string | false = containerSkipReason('runc') || auditdSkipReason();

const PRINTK = '/proc/sys/kernel/printk_ratelimit';
const restoreSettings = skip ? undefined : saveAuditSettings([PRINTK]);
let auditd: PrivateAuditd | undefined;

async function stopAuditd(): Promise<void> {
  const a = auditd;
  auditd = undefined;
  await a?.stop();
}

if (restoreSettings)
  t.teardown(async () => {
    await stopAuditd();
    restoreSettings();
  });

/** A private auditd; returns its log file. */
async function startAuditd(): Promise<string> {
  auditd = await startPrivateAuditd(join(work, 'auditd'));
  return auditd.log;
}

/** Runs a container under the CLI's log profile and checks, through `recordings show`, that its calls are in its image. */
async function recordOneContainer(t: Test, agent: AgentProcess, image: string): Promise<void> {
  const printed = await runCli(['recording-profile', '--mode', 'log', '-q']);
  t.equal(printed.code, 0, printed.stderr);
  const run = await runAnnotated({
    t,
    runtime: 'runc',
    args: ['sh', '-c', 'echo hello; cat /etc/passwd > /dev/null; sleep 1'],
    seccomp: JSON.parse(printed.stdout),
    annotations: criAnnotations(image, 'app', 'prod'),
  });
  t.equal(run.code, 0, run.stderr);
  t.equal(run.stdout, 'hello\n');

  const show = (json: boolean) => runCli(['recordings', 'show', image, '--api-socket', agent.apiSocket, ...(json ? ['--json'] : [])]);
  const detail = await eventually(
    async () => {
      const r = await show(true);
      return r.code === 0 ? (JSON.parse(r.stdout) as ImageDetail) : undefined;
    },
    (d) => !!d && d.calls.some((c) => c.syscall === 'exit_group'),
    20_000,
  );
  const names = new Set(detail!.calls.map((c) => c.syscall));
  for (const n of ['execve', 'write', 'exit_group']) t.ok(names.has(n), `workload call ${n} recorded for ${image}`);
  t.ok(names.has('nanosleep') || names.has('clock_nanosleep'), 'sleep recorded');
  t.same(detail!.sources, ['bundle-config'], 'image named by the CRI annotations in the bundle');
  t.same(detail!.runtimes, ['runc']);
  t.equal(detail!.containers, 1);
  t.equal(detail!.incomplete, false, 'no loss');

  const text = await show(false);
  t.equal(text.code, 0, text.stderr);
  t.match(text.stdout, new RegExp(`image: +${image.replace(/[.:/]/g, '\\$&')}`));
  t.match(text.stdout, /exit_group/);
  t.notMatch(text.stdout, /INCOMPLETE/);

  const metrics = (await agent.raw('GET', '/metrics')).body;
  t.match(metrics, /^seccomp_recorder_audit_incomplete 0$/m, 'audit metrics exposed');
  t.match(metrics, /^seccomp_recorder_audit_lost_records 0$/m);
  t.match(metrics, /^seccomp_recorder_images_incomplete 0$/m);
  t.notOk(existsSync(agent.socket), 'no runtime socket in audit mode');
}

t.test('agent --source audit --audit-mode kmsg: a runc container recorded from the kernel log', { skip }, async (t) => {
  await stopAuditd();
  writeFileSync(PRINTK, '0'); // no printk rate limit while recording through the kernel log (restored)
  const agent = await startAgent({ t, args: ['--source', 'audit', '--audit-mode', 'kmsg', '--batch-interval', '200ms'] });
  t.teardown(() => agent.kill9());
  const ready = agent.logs.find((l) => l.msg === 'agent ready')!;
  t.match(ready, { source: 'audit', auditMode: 'kmsg' });
  await recordOneContainer(t, agent, 'registry.example/audit-cli-kmsg:1.0');
  t.equal(await agent.stop(), 0, 'SIGTERM: drained, exit 0');
  t.ok(agent.logs.some((l) => l.msg === 'container finished (audit)'), 'the container got its end record on drain');
});

t.test('agent --source audit (auto): follows a running auditd\'s log', { skip }, async (t) => {
  const log = await startAuditd();
  const agent = await startAgent({ t, args: ['--source', 'audit', '--audit-log', log, '--batch-interval', '200ms'] });
  t.teardown(() => agent.kill9());
  const ready = agent.logs.find((l) => l.msg === 'agent ready')!;
  t.match(ready, { source: 'audit', auditMode: 'auditd', auditLog: log }, 'auto: an audit daemon is registered, its log is followed');
  await recordOneContainer(t, agent, 'registry.example/audit-cli-auditd:1.0');
  t.equal(await agent.stop(), 0);
  await stopAuditd();
});
