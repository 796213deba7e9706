// `record --known P --known-counts REC`: the syscalls REC saw most often are
// tested first in the filter, and nothing else changes. The verdicts of the
// filter compiled with and without the order are compared by running both
// programs in a small classic-BPF interpreter (below: the instructions
// libseccomp emits) on every syscall number of each arch, with argument values
// around the profile's conditions; then on the real kernel, the same recording.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parseProfileText } from '../src/profile/load.js';
import { knownFilterProfile } from '../src/profile/known.js';
import { parseRecording, RECORDING_KIND, RECORDING_VERSION } from '../src/profile/recording.js';
import { hottestFirst } from '../src/record/known.js';
import { archByName } from '../src/seccomp/arch.js';
import { compileProfile } from '../src/seccomp/compile.js';
import { runCli } from './helpers/cli.js';
import { fixture } from './helpers/fixtures.js';
import { tempDir } from './helpers/tmp.js';

const FIX = fileURLToPath(new URL('./fixtures/', import.meta.url));

interface Call {
  nr: number;
  arch: number;
  args: bigint[];
}

/** Runs a seccomp BPF program (host byte order) on one call; its return value. */
function runBpf(prog: Buffer, call: Call): number {
  const data = Buffer.alloc(64);
  data.writeInt32LE(call.nr, 0);
  data.writeUInt32LE(call.arch >>> 0, 4);
  call.args.forEach((a, i) => data.writeBigUInt64LE(BigInt.asUintN(64, a), 16 + 8 * i));
  const mem = new Uint32Array(16);
  let A = 0;
  let X = 0;
  for (let pc = 0; pc < prog.length / 8; ) {
    const code = prog.readUInt16LE(pc * 8);
    const jt = prog[pc * 8 + 2];
    const jf = prog[pc * 8 + 3];
    const k = prog.readUInt32LE(pc * 8 + 4);
    pc++;
    switch (code) {
      case 0x20: A = data.readUInt32LE(k); break; // ld [k]
      case 0x00: A = k; break; // ld #k
      case 0x01: X = k; break; // ldx #k
      case 0x60: A = mem[k]; break; // ld M[k]
      case 0x61: X = mem[k]; break; // ldx M[k]
      case 0x02: mem[k] = A; break; // st M[k]
      case 0x03: mem[k] = X; break; // stx M[k]
      case 0x54: A = (A & k) >>> 0; break; // and #k
      case 0x44: A = (A | k) >>> 0; break; // or #k
      case 0x07: X = A; break; // tax
      case 0x87: A = X; break; // txa
      case 0x05: pc += k; break; // ja
      case 0x15: pc += A === k ? jt : jf; break; // jeq #k
      case 0x25: pc += A > k ? jt : jf; break; // jgt #k
      case 0x35: pc += A >= k ? jt : jf; break; // jge #k
      case 0x45: pc += (A & k) !== 0 ? jt : jf; break; // jset #k
      case 0x06: return k; // ret #k
      case 0x16: return A; // ret a
      default: throw new Error(`instruction 0x${code.toString(16)} at ${pc - 1} not in this interpreter`);
    }
  }
  throw new Error('fell off the end of the program');
}

/** Every syscall number each arch can name, plus some it cannot, with argument values around the conditions. */
function calls(arches: string[], argValues: bigint[]): Call[] {
  const out: Call[] = [];
  for (const name of arches) {
    const arch = archByName(name)!;
    const token = name === 'x32' ? archByName('x86_64')!.token : arch.token;
    for (let nr = 0; nr < 600; nr++) {
      const n = name === 'x32' ? nr | 0x40000000 : nr;
      for (const v of argValues) out.push({ nr: n, arch: token, args: [v, v, v, v, v, v] });
    }
  }
  out.push({ nr: 0, arch: 0xdeadbeef, args: [0n, 0n, 0n, 0n, 0n, 0n] }, { nr: -1, arch: archByName('x86_64')!.token, args: [0n, 0n, 0n, 0n, 0n, 0n] });
  return out;
}

t.test('the hottest names come first, and the verdict of every call is unchanged', async (t) => {
  const moby = parseProfileText(readFileSync(join(FIX, 'runtime-defaults/moby-default.json'), 'utf8'), 'moby-default.json').profile;
  const known = knownFilterProfile([moby]);
  const arches = ['x86_64', 'x86', 'x32'];
  const argValues = new Set<bigint>([0n, 1n, 0xffffffffn, 0x100000000n, -1n]);
  for (const r of known.rules) for (const c of r.args) for (const d of [-1n, 0n, 1n]) argValues.add(BigInt(c.value) + d);
  const hot = ['write', 'read', 'futex', 'epoll_wait', 'clock_gettime', 'personality', 'clone', 'socket'];
  const plain = compileProfile(known, { arches, badArch: { kind: 'notify' }, pfc: true });
  const ordered = compileProfile(known, { arches, badArch: { kind: 'notify' }, hottestFirst: hot, pfc: true });
  t.equal(plain.problems.length + ordered.problems.length, 0);
  t.not(plain.bpf.toString('hex'), ordered.bpf.toString('hex'), 'the order changed the program');
  const first = /filter for syscall "(\w+)"/.exec(ordered.pfc!)?.[1];
  t.equal(first, 'write', 'the hottest name is tested first');
  let differing = 0;
  let checked = 0;
  const verdicts = new Set<number>();
  /** Per (arch, nr): the verdicts its argument values got (conditions exercised when more than one). */
  const byCall = new Map<string, Set<number>>();
  for (const call of calls(arches, [...argValues])) {
    const a = runBpf(plain.bpf, call);
    const b = runBpf(ordered.bpf, call);
    verdicts.add(a);
    const key = `${call.arch}/${call.nr}`;
    if (!byCall.has(key)) byCall.set(key, new Set());
    byCall.get(key)!.add(a);
    checked++;
    if (a !== b && differing++ < 3) t.fail(`nr ${call.nr} arch 0x${call.arch.toString(16)} arg ${call.args[0]}: 0x${a.toString(16)} vs 0x${b.toString(16)}`);
  }
  t.equal(differing, 0, `${checked} calls, same verdict with and without the order`);
  t.same([...verdicts].sort(), [0x7fc00000, 0x7fff0000], 'both verdicts of a known filter (notify, allow) exercised');
  const conditional = [...byCall.values()].filter((v) => v.size > 1).length;
  t.ok(conditional >= 2, `${conditional} syscalls whose verdict depends on their arguments`);
});

t.test('hottestFirst: native arch, summed over recordings, most calls first', async (t) => {
  const rec = (obs: [string, string, number][]) =>
    parseRecording(
      JSON.stringify({ kind: RECORDING_KIND, version: RECORDING_VERSION, identity: { image: 'x' }, arches: ['x86', 'x86_64'], startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:00:00.000Z', tool: { name: 'seccomp-recorder', version: '0' }, observations: obs.map(([arch, syscall, count]) => ({ arch, syscall, nr: 0, count })), stats: { notifications: 0, lost: 0 } }),
      'r.json',
    );
  const order = hottestFirst([rec([['x86_64', 'read', 10], ['x86_64', 'write', 7], ['x86', 'getpid', 99]]), rec([['x86_64', 'write', 5], ['x86_64', 'close', 1]])]);
  t.same(order, ['write', 'read', 'close']);
});

t.test('record --known with --known-counts: the same recording, on the real kernel', async (t) => {
  const dir = tempDir('known-priority', t);
  const first = await runCli(['record', '-q', '-o', join(dir, 'known.json'), '--save-recording', join(dir, 'counts.json'), '--', fixture('syscalls')]);
  t.equal(first.code, 0, first.stderr);
  // Drop one name the fixture calls, so the known run has something new to find.
  const known = JSON.parse(readFileSync(join(dir, 'known.json'), 'utf8'));
  known.syscalls[0].names = known.syscalls[0].names.filter((n: string) => n !== 'flock');
  writeFileSync(join(dir, 'less.json'), JSON.stringify(known));
  const without = await runCli(['record', '--known', join(dir, 'less.json'), '-o', join(dir, 'a.json'), '--save-recording', join(dir, 'a.rec'), '--', fixture('syscalls')]);
  const withCounts = await runCli(['record', '--known', join(dir, 'less.json'), '--known-counts', join(dir, 'counts.json'), '-o', join(dir, 'b.json'), '--save-recording', join(dir, 'b.rec'), '--', fixture('syscalls')]);
  t.equal(without.code, 0, without.stderr);
  t.equal(withCounts.code, 0, withCounts.stderr);
  t.match(withCounts.stderr, /1 new syscall beyond [^:]*: flock/);
  t.equal(readFileSync(join(dir, 'b.json'), 'utf8'), readFileSync(join(dir, 'a.json'), 'utf8'), 'the same profile');
  const names = (f: string) => parseRecording(readFileSync(join(dir, f), 'utf8'), f).observations.map((o) => `${o.arch}/${o.syscall}`).sort();
  t.same(names('b.rec'), names('a.rec'), 'the same calls reached the supervisor');
});

t.test('--known-counts needs --known, and a recording', async (t) => {
  const r = await runCli(['record', '--known-counts', join(FIX, 'runtime-defaults/moby-default.json'), '--', 'true']);
  t.equal(r.code, 2);
  t.match(r.stderr, /^error: --known-counts orders the filter of --known/);
  const dir = tempDir('known-priority', t);
  const p = join(FIX, 'runtime-defaults/moby-default.json');
  const r2 = await runCli(['record', '--known', p, '--known-counts', p, '-o', join(dir, 'x.json'), '--', 'true']);
  t.equal(r2.code, 2);
  t.match(r2.stderr, /error: .*moby-default\.json.*not a recording/);
});
