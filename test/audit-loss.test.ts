// Loss evidence: serial gaps (with reordering, shared serials, reboots and
// auditd restarts), the kernel's lost counter, kernel loss lines, and the
// `auditctl -s` parser (its output captured on this machine).
import t from 'tap';
import { LossTracker, REORDER_WINDOW } from '../src/record/audit/loss.js';
import { auditdLogFile, parseAuditctlStatus } from '../src/record/audit/status.js';

const feed = (serials: number[], type = 'SECCOMP') => {
  const l = new LossTracker();
  for (const s of serials) l.noteSerial('', type, s);
  l.finish();
  return l.summary();
};

t.test('consecutive serials, repeats (one event, several records): no loss', async (t) => {
  t.match(feed([10, 11, 11, 11, 12, 13]), { incomplete: false, lostAtLeast: 0, serialGaps: 0, reasons: [] });
});

t.test('a gap counts each missing serial', async (t) => {
  t.match(feed([1, 2, 5, 6, 10]), { incomplete: true, serialGaps: 5, lostAtLeast: 5 });
});

t.test('records out of order within the window fill their gap', async (t) => {
  t.match(feed([1, 2, 4, 5, 3, 6, 9, 8, 7]), { serialGaps: 0, incomplete: false });
  const late = [1, 3, ...Array.from({ length: REORDER_WINDOW + 10 }, (_, i) => i + 4), 2];
  t.match(feed(late), { serialGaps: 1 }, 'too late: the gap was already counted');
});

t.test('a reboot (serials restart low) is not a loss; gaps of each boot still count', async (t) => {
  t.match(feed([500000, 500001, 500003, 5, 6, 8]), { serialGaps: 2 });
});

t.test("auditd's own records are left out and its start/stop ends a segment", async (t) => {
  const l = new LossTracker();
  l.noteSerial('', 'DAEMON_START', 9000);
  l.noteSerial('', 'SECCOMP', 100);
  l.noteSerial('', 'SYSCALL', 101);
  l.noteSerial('', 'DAEMON_END', 9001);
  // auditd was down: records 102..199 went to the kernel log, not lost.
  l.noteSerial('', 'DAEMON_START', 9002);
  l.noteSerial('', 'SECCOMP', 200);
  l.finish();
  t.match(l.summary(), { serialGaps: 0, incomplete: false });
});

t.test('nodes (remote logs) are tracked apart', async (t) => {
  const l = new LossTracker();
  for (const s of [1, 2, 3]) l.noteSerial('a', 'SECCOMP', s);
  for (const s of [100, 101]) l.noteSerial('b', 'SECCOMP', s);
  l.noteSerial('a', 'SECCOMP', 4);
  l.finish();
  t.equal(l.summary().serialGaps, 0);
});

t.test('kernel lost counter: from audit_lost= lines and from the status', async (t) => {
  const l = new LossTracker();
  const events: string[] = [];
  l.onLoss = (what) => events.push(what);
  l.noteKernelLoss('lost-counter', 3, 'audit: audit_lost=3 ...');
  l.noteKernelLoss('lost-counter', 7, 'audit: audit_lost=7 ...');
  l.noteKernelLoss('backlog', undefined, 'audit: backlog limit exceeded');
  t.match(l.summary(), { kernelLost: 5, backlogExceeded: 1, lostAtLeast: 5, incomplete: true });
  l.noteStatusLost(100);
  l.noteStatusLost(140);
  t.match(l.summary(), { kernelLost: 40, lostAtLeast: 40 });
  t.equal(events.length, 4, 'each new evidence is announced');
  t.match(l.summary().reasons, [/kernel counted 40/, /backlog limit exceeded/]);
});

t.test('suppressed kernel messages and overwritten kmsg records mark the recording incomplete', async (t) => {
  const l = new LossTracker();
  l.noteKernelLoss('suppressed', 24, 'kauditd_printk_skb: 24 callbacks suppressed');
  l.noteKmsgOverwritten(3);
  t.match(l.summary(), { incomplete: true, suppressed: 24, kmsgOverwritten: 3, lostAtLeast: 0 });
});

// Captured with `auditctl -s` (auditd 3.0.9) on this machine.
const STATUS = `enabled 1
failure 1
pid 16245
rate_limit 0
backlog_limit 1
lost 40097
backlog 0
backlog_wait_time 0
backlog_wait_time_actual 0
loginuid_immutable 0 unlocked
`;

t.test('auditctl -s output', async (t) => {
  t.same(parseAuditctlStatus(STATUS), { enabled: 1, pid: 16245, rateLimit: 0, backlogLimit: 1, lost: 40097, backlog: 0, backlogWaitTime: 0 });
  t.equal(parseAuditctlStatus('You must be root\n'), undefined);
});

t.test('auditd.conf: where the log is', async (t) => {
  t.equal(auditdLogFile(undefined), '/var/log/audit/audit.log');
  t.equal(auditdLogFile('# c\nlog_file = /srv/a.log\nlog_format = ENRICHED\n'), '/srv/a.log');
  t.equal(auditdLogFile('write_logs = no\n'), undefined);
});

t.test('a gap with nothing after it counts once the reorder wait has passed (by record stamps, or the clock)', async (t) => {
  const l = new LossTracker();
  l.noteSerial('', 'SECCOMP', 1, 1_000);
  l.noteSerial('', 'SECCOMP', 5, 1_100);
  t.equal(l.summary().serialGaps, 0, 'still within the reorder wait');
  l.noteSerial('', 'SECCOMP', 6, 5_000);
  t.equal(l.summary().serialGaps, 3, 'a later record, stamped past the wait');
  l.noteSerial('', 'SECCOMP', 9, 6_000);
  l.settleOlderThan(6_500);
  t.equal(l.summary().serialGaps, 3, 'the live clock: not yet');
  l.settleOlderThan(9_000);
  t.equal(l.summary().serialGaps, 5, 'the live clock: counted');
});
