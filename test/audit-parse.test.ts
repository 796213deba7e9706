// The audit line parser on real lines captured on this machine (auditd RAW and
// ENRICHED logs, /dev/kmsg, dmesg; see fixtures/audit/capture.sh) and on
// hand-made malformed ones: each format gives the same records, and nothing
// malformed crashes, counts, or is attributed to another pid.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { SeccompRecord } from '../src/record/audit/parse.js';
import { decodeUntrusted, kernelMessageStart, parseAuditLine } from '../src/record/audit/parse.js';

const FIX = fileURLToPath(new URL('./fixtures/audit/', import.meta.url));
const lines = (name: string) => readFileSync(`${FIX}${name}`, 'latin1').split('\n').filter((l) => l.length);

function records(name: string): SeccompRecord[] {
  const out: SeccompRecord[] = [];
  for (const l of lines(name)) {
    const p = parseAuditLine(l);
    if (p.kind === 'seccomp') out.push(p.record);
  }
  return out;
}

/** What a test can compare across runs: the pid-independent multiset of a program's calls (its processes interleave). */
const calls = (rs: SeccompRecord[], comm: string) =>
  rs
    .filter((r) => r.comm === comm)
    .map((r) => `${r.auditArch.toString(16)}/${r.nr}/${r.action}`)
    .sort();

t.test('auditd RAW: every SECCOMP line parses, with its fields', async (t) => {
  const all = lines('auditd-raw.txt');
  const seccomp = all.filter((l) => l.startsWith('type=SECCOMP'));
  const rs = records('auditd-raw.txt');
  t.equal(rs.length, seccomp.length, 'one record per type=SECCOMP line');
  t.ok(rs.length > 100);
  const first = rs.find((r) => r.comm === 'syscalls')!;
  t.match(first, { node: '', pid: Number, uid: 0, auditArch: 0xc000003e, action: 'log', code: 0x7ffc0000 });
  t.match(first.exe, /\/syscalls$/);
  t.ok(first.time > 1.7e12 && first.serial > 0);
  // The fixture's int 0x80 getpid: arch i386, number 20; its x32 getpid keeps bit 30.
  t.ok(rs.some((r) => r.comm === 'syscalls' && r.auditArch === 0x40000003 && r.nr === 20), 'compat call on the x86 arch');
  t.ok(rs.some((r) => r.comm === 'syscalls' && r.auditArch === 0xc000003e && r.nr === (0x40000000 | 39)), 'x32 call number');
  const kill = rs.find((r) => r.comm === 'uname' && r.nr === 63)!;
  t.match(kill, { action: 'kill_process', code: 0x80000000, sig: 31 }, 'a denial keeps its action');
  for (const l of all.filter((x) => !x.startsWith('type=SECCOMP'))) t.equal(parseAuditLine(l).kind, 'audit', `other record: ${l.slice(0, 30)}`);
});

t.test('a name with a space and a quote is hex-encoded by the kernel and decoded here', async (t) => {
  const odd = records('auditd-raw.txt').filter((r) => r.comm === 'a b"c');
  t.ok(odd.length > 5, 'records of the odd-named program');
  t.match(odd[odd.length - 1].exe, /\/odd dir\/a b"c$/);
  t.equal(decodeUntrusted('6120622263'), 'a b"c');
  t.equal(decodeUntrusted('"plain"'), 'plain');
  t.equal(decodeUntrusted('(null)'), undefined);
});

t.test('ENRICHED, kmsg and dmesg captures give the same calls as RAW', async (t) => {
  const raw = records('auditd-raw.txt');
  for (const name of ['auditd-enriched.txt', 'kmsg.txt', 'dmesg.txt']) {
    const rs = records(name);
    t.ok(rs.length > 100, `${name}: records found`);
    for (const comm of ['syscalls', 'a b"c', 'uname']) t.same(calls(rs, comm), calls(raw, comm), `${name}: same calls of ${comm}`);
  }
  t.ok(lines('auditd-enriched.txt').some((l) => l.includes('\x1d')), 'the enriched capture has the 0x1d separator');
});

t.test('remote logs: node= prefix; other layouts (no ip=, extra subj=, doubled spaces) read by the general scanner', async (t) => {
  const body = 'auid=0 uid=0 gid=0 ses=1 subj=unconfined pid=77 comm="x" exe="/x" sig=0 arch=c000003e syscall=3 compat=0 ip=0x1 code=0x7ffc0000';
  const remote = parseAuditLine(`node=web-1 type=SECCOMP msg=audit(1795734018.290:9): ${body}`);
  t.match(remote, { kind: 'seccomp', record: { node: 'web-1', pid: 77, nr: 3, serial: 9 } });
  const old = parseAuditLine('type=SECCOMP msg=audit(1795734018.290:9): auid=0 uid=0 gid=0 ses=1 pid=77 comm="x" exe="/x" sig=0 syscall=3 compat=0 code=0x7ffc0000  arch=c000003e');
  t.match(old, { kind: 'seccomp', record: { pid: 77, nr: 3, auditArch: 0xc000003e } });
  const unknown = parseAuditLine(`type=UNKNOWN[1326] msg=audit(1795734018.290:9): ${body}`);
  t.equal(unknown.kind, 'seccomp', 'auditd without a name for 1326');
});

t.test('kernel log prefixes', async (t) => {
  const body = 'audit: type=1326 audit(1795734022.862:752): auid=0 uid=0 gid=0 ses=1 pid=12 comm="x" exe="/x" sig=0 arch=c000003e syscall=12 compat=0 ip=0x1 code=0x7ffc0000';
  for (const prefix of [
    '5,401,3660006815,-;',
    '5,401,3660006815,c,extra;',
    '[ 3660.006815] ',
    '<5>[ 3660.006815] ',
    '[Thu Nov 26 23:00:22 2026] ',
    'Nov 26 23:00:22 vm kernel: ',
    'Nov 26 23:00:22 vm kernel: [ 3660.006815] ',
    '2026-11-26T23:00:22.862+00:00 vm kernel: ',
  ]) {
    const p = parseAuditLine(prefix + body);
    t.equal(p.kind, 'seccomp', JSON.stringify(prefix));
    if (p.kind === 'seccomp') t.match(p.record, { pid: 12, nr: 12, serial: 752 });
  }
  t.equal(parseAuditLine('[ 12.5] EXT4-fs (vda): mounted filesystem').kind, 'kernel-other');
  t.equal(parseAuditLine(' SUBSYSTEM=virtio').kind, 'kernel-other', 'kmsg dictionary line');
  t.equal(kernelMessageStart('no prefix here'), -1);
});

t.test('kernel loss lines', async (t) => {
  const cases: [string, string, number | undefined][] = [
    ['[ 2440.884326] audit: backlog limit exceeded', 'backlog', undefined],
    ['[ 2440.892854] audit: audit_backlog=2 > audit_backlog_limit=1', 'backlog', undefined],
    ['[ 2440.892861] audit: audit_lost=3 audit_rate_limit=0 audit_backlog_limit=1', 'lost-counter', 3],
    ['[ 1.0] audit: rate limit exceeded', 'rate', undefined],
    ['[ 1.0] audit: kauditd hold queue overflow', 'hold-queue', undefined],
    ['[ 2428.783547] kauditd_printk_skb: 20 callbacks suppressed', 'suppressed', 20],
    ['4,900,2440883794,-;audit_log_start: 7 callbacks suppressed', 'suppressed', 7],
  ];
  for (const [line, loss, count] of cases) {
    const p = parseAuditLine(line);
    t.match(p, { kind: 'kernel-loss', loss }, line);
    if (p.kind === 'kernel-loss') t.equal(p.count, count);
  }
  t.equal(parseAuditLine('[ 1.0] net_ratelimit: 5 callbacks suppressed').kind, 'kernel-other', 'not an audit function');
});

t.test('hand-made malformed lines: counted as such, valid neighbours unharmed', async (t) => {
  const parsed = lines('malformed.txt').map((l) => parseAuditLine(l.replace(/\r$/, '')));
  const kinds = parsed.map((p) => p.kind);
  t.same(kinds, [
    'malformed', // the comment line
    'seccomp',
    'malformed', // truncated
    'malformed', // binary garbage
    'malformed', // duplicate pid=
    'malformed', // unterminated quote swallowing fields
    'malformed', // ausearch -i
    'malformed', // bad arch
    'malformed', // no code
    'audit', // USER record quoting a fake SECCOMP record
    'seccomp', // hex comm
    'malformed', // quote inside quotes
    'malformed', // syscall out of range
    'malformed', // pid beyond PID_MAX
    'malformed', // cut inside the stamp
    'seccomp', // enriched tail with a fake pid
    'seccomp', // CRLF
  ]);
  const reasons = parsed.flatMap((p) => (p.kind === 'malformed' ? [p.reason] : []));
  t.match(reasons, [
    /not an audit record/,
    /without arch, syscall, code/,
    /not an audit record/,
    /duplicate pid=/,
    /after the closing quote of comm=/,
    /interpreted format/,
    /bad arch=/,
    /without code/,
    /after the closing quote of comm=/,
    /bad syscall=/,
    /bad pid=/,
    /closing/,
  ]);
  const good = parsed.flatMap((p) => (p.kind === 'seccomp' ? [p.record] : []));
  t.same(
    good.map((r) => [r.pid, r.nr]),
    [
      [4242, 0],
      [4242, 6],
      [4242, 10],
      [4243, 11],
    ],
    'no record is attributed to a pid or call found inside another field',
  );
  t.equal(good[1].comm, ' pid', 'hex comm decoded, and it is only a name');
  t.equal(parsed[9].kind === 'audit' && parsed[9].type, 'USER');
  t.match(parsed[2], { serial: 2 }, 'a malformed record with a readable stamp keeps its serial (seen, not lost)');
});

t.test('huge lines and odd bytes never throw', async (t) => {
  const huge = `type=SECCOMP msg=audit(1.000:1): pid=1 comm="${'A'.repeat(4 << 20)}" arch=c000003e syscall=0 code=0x7ffc0000`;
  t.equal(parseAuditLine(huge).kind, 'seccomp', 'the parser itself has no length limit (the line reader caps lines)');
  // Seeded pseudo-random bytes behind each kind of prefix: the same cases every run.
  let state = 12345;
  const next = () => (state = (state * 1103515245 + 12345) >>> 0);
  const thrown: string[] = [];
  for (let i = 0; i < 2000; i++) {
    let s = '';
    const len = next() % 300;
    for (let j = 0; j < len; j++) s += String.fromCharCode(next() % 256);
    const prefix = ['', 'type=SECCOMP msg=audit(1.000:1): ', '5,1,1,-;audit: type=1326 audit(1.000:1): ', 'node=x type='][i % 4];
    try {
      parseAuditLine(prefix + s);
    } catch (err) {
      thrown.push(`${JSON.stringify(prefix + s)}: ${(err as Error).message}`);
    }
  }
  t.same(thrown, [], '2000 random lines parsed without an exception');
});
