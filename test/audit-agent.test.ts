// The audit container source (src/record/audit/container-source.ts) wired into
// the agent's store through its ledger (src/agent/ledger.ts):
// a runc container with CRI annotations runs under a SCMP_ACT_LOG profile,
// its records are read from the kernel log (no auditd), attributed through
// its cgroup and its runtime's state, and the image's recording holds the
// workload's calls. Loss marks the images of the containers it may have hit.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import t from 'tap';
import { ContainerLedger } from '../src/agent/ledger.js';
import { nodeLookups } from '../src/agent/lookups.js';
import { RecordingStore } from '../src/agent/store.js';
import { imageRecording } from '../src/agent/views.js';
import { ociObject } from '../src/profile/oci.js';
import { AuditContainerSource } from '../src/record/audit/container-source.js';
import { logRecordingProfile } from '../src/record/audit/log-profile.js';
import { AuditSource } from '../src/record/audit/source.js';
import { parseAuditctlStatus } from '../src/record/audit/status.js';
import { criAnnotations, runAnnotated } from './helpers/agent-bundle.js';
import { seccompLogSkipReason } from './helpers/auditd.js';
import { containerSkipReason, hasCommand } from './helpers/bundle.js';
import { tempDir } from './helpers/tmp.js';

const log = pino({ level: 'silent' });
const auditdPid = () => {
  try {
    return parseAuditctlStatus(execFileSync('auditctl', ['-s'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))?.pid ?? 0;
  } catch {
    return 0;
  }
};
const skip = containerSkipReason('runc') || (!hasCommand('auditctl') ? 'auditd is not installed (apt-get install auditd)' : auditdPid() !== 0 ? 'an audit daemon runs: this test reads the kernel log' : seccompLogSkipReason());

t.test('a runc container recorded through the kernel log lands in its image', { skip }, async (t) => {
  const PRINTK = '/proc/sys/kernel/printk_ratelimit';
  const saved = readFileSync(PRINTK, 'utf8');
  t.teardown(() => writeFileSync(PRINTK, saved));
  writeFileSync(PRINTK, '0'); // no printk rate limit while recording (restored)
  const dir = tempDir('audit-agent', t);
  const store = await RecordingStore.open(join(dir, 'state'), log);
  const ledger = new ContainerLedger(store, nodeLookups(log), log);
  const feed = new AuditContainerSource(new AuditSource({ mode: 'kmsg', pollMs: 20, statusPollMs: 0 }));
  await feed.start(ledger, log);
  const image = 'registry.example/audit-app:1.0';
  const run = await runAnnotated({
    t,
    runtime: 'runc',
    args: ['sh', '-c', 'echo hello; cat /etc/passwd > /dev/null; sleep 1'],
    seccomp: ociObject(logRecordingProfile()),
    annotations: criAnnotations(image, 'app', 'prod'),
  });
  t.equal(run.code, 0, run.stderr);
  await feed.stop();
  await ledger.whenIdle();
  await store.flush();
  const rec = imageRecording(store.state, image);
  t.ok(rec, 'the image named by the CRI annotations has a recording');
  const names = new Set(rec!.observations.filter((o) => !o.runtimeOnly).map((o) => o.syscall));
  for (const n of ['execve', 'write', 'exit_group']) t.ok(names.has(n), `workload call ${n}`);
  t.ok(names.has('nanosleep') || names.has('clock_nanosleep'), 'sleep');
  t.ok(rec!.stats.notifications > 10, `${rec!.stats.notifications} records counted`);
  t.equal(rec!.stats.lost, 0);
  const img = store.state.images.get(image)!;
  t.same([...img.containers], [run.id]);
  t.same([...img.sources], ['bundle-config']);
  t.same([...img.runtimes], ['runc']);
  await store.close();
});

t.test('loss while a container is recorded marks its image (the records are synthetic: the kernel cannot be made to lose on cue here)', async (t) => {
  const dir = tempDir('audit-agent-loss', t);
  const store = await RecordingStore.open(join(dir, 'state'), log);
  const source = new AuditSource({ statusPollMs: 0, runtimeStateRoots: [] });
  const ledger = new ContainerLedger(store, { podman: async () => undefined, podmanStorage: async () => undefined, bundleAnnotations: async () => undefined }, log);
  const feed = new AuditContainerSource(source);
  feed.attach(ledger, log); // not started: the records below are emitted by hand
  const id = 'c'.repeat(64);
  const obs = { time: 0, pid: 1, auditArch: 0xc000003e, arch: 'x86_64', nr: 0, syscall: 'read', action: 'log' as const, code: 0x7ffc0000, phase: 'workload' as const };
  source.emit('observation', { ...obs, attribution: { status: 'container', containerId: id, cgroup: `/docker/${id}` } });
  source.emit('observation', { ...obs, pid: 2, attribution: { status: 'gone' } });
  await new Promise((r) => setImmediate(r));
  feed.tick();
  source.loss.noteKernelLoss('lost-counter', 5, 'audit: audit_lost=5');
  source.loss.noteKernelLoss('lost-counter', 9, 'audit: audit_lost=9');
  feed.tick();
  await feed.stop();
  await ledger.whenIdle();
  const rec = imageRecording(store.state, id)!;
  t.equal(rec.stats.lost, 5, 'the container active during the loss carries it');
  t.equal(rec.stats.notifications, 1);
  t.match(feed.stats(), { unattributed: 1, lostAtLeast: 5, incomplete: true });
  await store.close();
});
