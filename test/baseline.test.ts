// Baseline resolution: moby-style includes/excludes by caps, arches and
// minKernel; containers-common's errno names; the real containers-common file.
import { existsSync } from 'node:fs';
import t from 'tap';
import { InputError, UsageError } from '../src/errors.js';
import {
  callVerdict,
  DOCKER_DEFAULT_CAPS,
  isConditionalProfile,
  loadBaseline,
  normalizeArch,
  resolveBaseline,
  resolveBaselineWithNotes,
  rulesFor,
} from '../src/profile/baseline.js';
import type { Profile } from '../src/profile/model.js';
import { serializeOci } from '../src/profile/oci.js';

const FIX = new URL('./fixtures/generate/', import.meta.url).pathname;
const moby = loadBaseline(`${FIX}moby-like.json`);
const CONTAINERS_COMMON = '/usr/share/containers/seccomp.json';

const target = (over: Partial<{ arches: string[]; caps: string[]; kernel: string }> = {}) => ({
  arches: ['x86_64'],
  caps: [...DOCKER_DEFAULT_CAPS],
  kernel: '6.18.44',
  ...over,
});
const allowed = (p: Profile, name: string) => rulesFor(p, name).filter((r) => r.action.kind === 'allow');

t.test('the moby-shaped fixture is conditional until resolved', async (t) => {
  t.ok(isConditionalProfile(moby));
  const r = resolveBaseline(moby, target());
  t.notOk(isConditionalProfile(r));
  t.equal(r.archMap, undefined);
  t.ok(r.rules.every((x) => !x.includes && !x.excludes));
  t.same(r.architectures, ['x86_64']);
  t.equal(r.defaultErrnoRet, 1);
  t.doesNotThrow(() => serializeOci(r));
});

t.test('caps: Docker defaults vs CAP_SYS_ADMIN', async (t) => {
  const d = resolveBaseline(moby, target());
  t.equal(allowed(d, 'chroot').length, 1, 'CAP_SYS_CHROOT is in the Docker default set');
  t.equal(allowed(d, 'unshare').length, 0, 'unshare needs CAP_SYS_ADMIN');
  t.equal(allowed(d, 'bpf').length, 0);
  const clone = rulesFor(d, 'clone');
  t.equal(clone.length, 1, 'only the masked clone rule');
  t.match(clone[0].args, [{ index: 0, op: 'masked-eq', value: 2114060288n }]);
  t.match(rulesFor(d, 'clone3'), [{ action: { kind: 'errno', ret: 38 } }]);

  const admin = resolveBaseline(moby, target({ caps: [...DOCKER_DEFAULT_CAPS, 'sys_admin'] }));
  t.equal(allowed(admin, 'unshare').length, 1, 'lower-case cap without prefix is accepted');
  t.same(rulesFor(admin, 'clone').map((r) => r.args.length), [0], 'plain clone, masked rule excluded');
  t.same(rulesFor(admin, 'clone3').map((r) => r.action.kind), ['allow'], 'clone3 ENOSYS excluded');

  const none = resolveBaseline(moby, target({ caps: [] }));
  t.equal(allowed(none, 'chroot').length, 0, 'no caps: no chroot');
});

t.test('arches: moby spellings amd64/arm64/s390x and compat groups', async (t) => {
  const x = resolveBaseline(moby, target({ arches: ['x86_64', 'x86', 'x32'] }));
  t.equal(allowed(x, 'arch_prctl').length, 1);
  t.equal(allowed(x, 'modify_ldt').length, 1);
  t.equal(allowed(x, 'set_tls').length, 0);
  const a = resolveBaseline(moby, target({ arches: ['arm64'] }));
  t.same(a.architectures, ['aarch64'], 'Go name normalised');
  t.equal(allowed(a, 'set_tls').length, 1);
  t.equal(allowed(a, 'arch_prctl').length, 0);
  const s = resolveBaseline(moby, target({ arches: ['s390x'] }));
  t.match(rulesFor(s, 'clone'), [{ args: [{ index: 1 }] }], 's390 passes flags in arg 1');
  const x86only = resolveBaseline(moby, target({ arches: ['x86'] }));
  t.equal(allowed(x86only, 'modify_ldt').length, 1, 'x86 alone is its own host');
  t.equal(allowed(x86only, 'arch_prctl').length, 0);
  t.equal(normalizeArch('386'), 'x86');
  t.equal(normalizeArch('SCMP_ARCH_AARCH64'), 'aarch64');
  t.equal(normalizeArch('sparc'), undefined);
});

t.test('several hosts: never looser than the default on any of them', async (t) => {
  const { profile, notes } = resolveBaselineWithNotes(moby, target({ arches: ['x86_64', 's390x'] }));
  t.equal(rulesFor(profile, 'clone').length, 0, 'clone rules differ per host and clone exists on both: left out');
  t.match(notes.join('\n'), /clone on x86_64 only/);
  t.match(notes.join('\n'), /clone on s390x only/);
  t.equal(allowed(profile, 'arch_prctl').length, 1, 'arch_prctl does not exist on s390x, so keeping it loosens nothing');
  t.same(rulesFor(profile, 'clone3').map((r) => r.action.ret), [38], 'denials are kept when they apply on any host');

  const xa = resolveBaselineWithNotes(moby, target({ arches: ['x86_64', 'aarch64'] }));
  t.equal(allowed(xa.profile, 'set_tls').length, 1, 'allowed for arm64 hosts, and x86_64 has no set_tls');
  t.equal(allowed(xa.profile, 'arch_prctl').length, 1, 'allowed for amd64 hosts, and aarch64 has no arch_prctl');
  t.same(xa.notes, []);
});

t.test('minKernel in includes and excludes', async (t) => {
  t.equal(allowed(resolveBaseline(moby, target({ kernel: '4.4.0-210-generic' })), 'ptrace').length, 0);
  t.equal(allowed(resolveBaseline(moby, target({ kernel: '4.8' })), 'ptrace').length, 1);
  t.equal(allowed(resolveBaseline(moby, target({ kernel: '4.19.1' })), 'ptrace').length, 1);
  t.equal(allowed(resolveBaseline(moby, target({ kernel: '4.19.1' })), 'uselib').length, 1, 'excluded only from 5.0 on');
  t.equal(allowed(resolveBaseline(moby, target({ kernel: '5.0' })), 'uselib').length, 0);
  t.throws(() => resolveBaseline(moby, target({ kernel: 'latest' })), UsageError);
  t.throws(() => resolveBaseline(moby, target({ arches: ['sparc'] })), UsageError);
});

t.test('containers-common shape: errno names are folded into errnoRet', async (t) => {
  const p = loadBaseline(`${FIX}containers-like.json`);
  t.equal(p.defaultErrnoRet, 38);
  const noCaps = resolveBaseline(p, target({ caps: [] }));
  t.match(rulesFor(noCaps, 'chroot'), [{ action: { kind: 'errno', ret: 1 } }], 'errno "EPERM" without errnoRet becomes 1');
  t.equal(rulesFor(noCaps, 'socket').length, 3);
  const docker = resolveBaseline(p, target());
  t.same(rulesFor(docker, 'socket').map((r) => r.args.length), [0], 'CAP_AUDIT_WRITE: plain socket');
});

t.test('errno names that disagree or do not exist are errors with their path', async (t) => {
  const err = t.throws(() => loadBaseline(`${FIX}errno-mismatch.json`)) as InputError;
  t.type(err, InputError);
  t.equal(err.exitCode, 2);
  t.match(err.message, /errno-mismatch\.json: syscalls\[1\]\.errno: EINVAL is 22, but errnoRet says 1/);
  t.match(err.message, /syscalls\[2\]\.errno: unknown errno name "ENOTANERRNO"/);
});

t.test('callVerdict reads recorded argument values against conditions', async (t) => {
  const d = resolveBaseline(moby, target());
  t.equal(callVerdict(d, 'socket', new Map([[0, 2n]])), 'allowed');
  t.equal(callVerdict(d, 'socket', new Map([[0, 40n]])), 'denied', 'AF_VSOCK');
  t.equal(callVerdict(d, 'personality', new Map([[0, 8n]])), 'allowed');
  t.equal(callVerdict(d, 'personality', new Map([[0, 4n]])), 'denied');
  t.equal(callVerdict(d, 'clone', new Map([[0, 0x1200011n]])), 'allowed', 'fork-like clone');
  t.equal(callVerdict(d, 'clone', new Map([[0, 0x10000000n]])), 'denied', 'CLONE_NEWUSER');
  t.equal(callVerdict(d, 'socket', new Map()), 'unknown', 'no recorded value');
  const cc = resolveBaseline(loadBaseline(`${FIX}containers-like.json`), target({ caps: [] }));
  t.equal(callVerdict(cc, 'socket', new Map([[0, 16n]])), 'unknown', 'netlink: depends on the protocol, not recorded');
  t.equal(callVerdict(cc, 'socket', new Map([[0, 2n]])), 'allowed');
});

t.test('the real containers-common default resolves', { skip: existsSync(CONTAINERS_COMMON) ? false : `${CONTAINERS_COMMON} not installed (Debian: golang-github-containers-common)` }, async (t) => {
  const p = loadBaseline(CONTAINERS_COMMON);
  t.ok(isConditionalProfile(p), 'it uses archMap and includes/excludes');
  const r = resolveBaseline(p, target({ arches: ['x86_64', 'x86', 'x32'] }));
  t.notOk(isConditionalProfile(r));
  t.equal(r.defaultErrnoRet, 38, 'ENOSYS default');
  t.equal(allowed(r, 'read').length, 1);
  t.equal(allowed(r, 'arch_prctl').length, 1);
  t.equal(allowed(r, 'bpf').length, 0, 'bpf needs CAP_SYS_ADMIN');
  t.same(rulesFor(r, 'personality').map((x) => x.args.length), [1, 1, 1, 1, 1], 'personality keeps its five conditions');
  const admin = resolveBaseline(p, target({ caps: [...DOCKER_DEFAULT_CAPS, 'CAP_SYS_ADMIN'] }));
  t.equal(allowed(admin, 'bpf').length, 1);
});
