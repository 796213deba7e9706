// generate --args off|safe|strict through the CLI: byte-for-byte golden files
// per level (with and without moby's default as the baseline), every one
// validates, explain prints values by name and the risk report, diff between
// levels shows the narrowed value sets, and a bad level is a clear error.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const ARGS = new URL('./fixtures/args/', import.meta.url).pathname;
const MOBY = new URL('./fixtures/runtime-defaults/moby-default.json', import.meta.url).pathname;
const REC = `${ARGS}rec-args.json`;
const dir = tempDir('args-cli');
const LEVELS = ['off', 'safe', 'strict'] as const;

const baselineArgs = (kind: 'moby' | 'plain') => (kind === 'moby' ? ['--baseline', MOBY, '--kernel', '6.1'] : ['--no-baseline']);

for (const kind of ['plain', 'moby'] as const) {
  for (const level of LEVELS) {
    t.test(`golden: --args ${level}, ${kind === 'moby' ? "moby's default" : 'no'} baseline; validate passes`, async (t) => {
      const out = join(dir, `${kind}-${level}.json`);
      const r = await runCli(['generate', REC, ...baselineArgs(kind), '--args', level, '--exact', '-q', '-o', out]);
      t.equal(r.code, 0, r.stderr);
      t.equal(readFileSync(out, 'utf8'), readFileSync(`${ARGS}${kind}-${level}.json`, 'utf8'));
      const v = await runCli(['validate', '--strict', out]);
      t.equal(v.code, 0, `${v.stdout}${v.stderr}`);
      if (kind === 'moby') {
        const against = await runCli(['validate', '--strict', '--against-baseline', MOBY, out]);
        t.equal(against.code, 0, `never looser than the baseline: ${against.stdout}${against.stderr}`);
      }
    });
  }
}

t.test('safe is the default; the summary says what each level closed and left open', async (t) => {
  const def = await runCli(['generate', REC, '--no-baseline', '--exact']);
  t.equal(def.code, 0, def.stderr);
  t.equal(def.stdout, readFileSync(`${ARGS}plain-safe.json`, 'utf8'));
  t.match(def.stderr, /arguments \(--args safe\): 5 syscall\(s\) allowed only for recorded values/);
  t.match(def.stderr, /clone3 answered ENOSYS/);
  t.match(def.stderr, /ioctl requests, fcntl commands and socket options stay open at this level/);
  const over = await runCli(['generate', REC, `${ARGS}rec-args-second.json`, '--no-baseline', '--args', 'strict', '-o', join(dir, 'two.json')]);
  t.equal(over.code, 0, over.stderr);
  t.match(over.stderr, /left open: ioctl: more distinct values were seen than the recorder keeps/);
  const moby = await runCli(['generate', REC, ...baselineArgs('moby'), '--args', 'strict', '-o', join(dir, 'm.json')]);
  t.match(moby.stderr, /recorded calls the baseline's conditions deny .*socket\(domain=0x28, type=0x1\)/);
  const off = await runCli(['generate', REC, '--no-baseline', '--args', 'off', '-o', join(dir, 'o.json')]);
  t.match(off.stderr, /--args off: names only/);
});

t.test('a bad --args level is a usage error, no stack, nothing written', async (t) => {
  const out = join(dir, 'never.json');
  const r = await runCli(['generate', REC, '--args', 'loose', '-o', out]);
  t.not(r.code, 0);
  t.match(r.stderr, /--args.*loose/);
  t.notMatch(r.stderr, /at .*\.js:\d+/);
  t.throws(() => readFileSync(out));
});

t.test('explain prints allowed values by name and the risk report', async (t) => {
  const r = await runCli(['explain', `${ARGS}plain-strict.json`, '--no-baseline', '--recording', REC]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /socket +.*AF_UNIX SOCK_STREAM/);
  t.match(r.stdout, /ioctl +TCGETS, TIOCGWINSZ/);
  t.match(r.stdout, /setsockopt +.*SOL_SOCKET SO_REUSEADDR/);
  t.match(r.stdout, /prctl +.*PR_SET_NAME/);
  t.match(r.stdout, /closed by conditions: packet sockets \(AF_PACKET\), raw sockets \(SOCK_RAW\)/);
  t.match(r.stdout, /terminal input injection \(ioctl TIOCSTI\)/);
  t.match(r.stdout, /open:\n {4}VM host sockets \(AF_VSOCK\): socket's conditions let it through/);
  const off = await runCli(['explain', `${ARGS}plain-off.json`, '--no-baseline', '--recording', REC]);
  t.match(off.stdout, /allowed for any argument value:\n(.*\n)*  ioctl: recorded values would restrict it \(--args strict\)/);
  t.match(off.stdout, /packet sockets \(AF_PACKET\): socket is allowed for any value/);
  const audit = JSON.parse(readFileSync(REC, 'utf8'));
  audit.source = 'audit';
  for (const o of audit.observations) delete o.args;
  writeFileSync(join(dir, 'audit.json'), JSON.stringify(audit));
  const a = await runCli(['explain', `${ARGS}plain-off.json`, '--no-baseline', '--recording', join(dir, 'audit.json')]);
  t.match(a.stdout, /came from the audit source, which keeps no argument values/);
  t.match(a.stdout, /socket: no argument values were recorded/);
});

t.test('diff between levels: narrowing, with the value set per argument', async (t) => {
  const r = await runCli(['diff', `${ARGS}plain-off.json`, `${ARGS}plain-strict.json`]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /narrow +socket +conditions tightened/);
  t.match(r.stdout, /values: domain: any value → AF_INET, AF_INET6, AF_UNIX, AF_VSOCK \(narrowed\)/);
  t.match(r.stdout, /values: request: any value → TCGETS, TIOCGWINSZ \(narrowed\)/);
  t.match(r.stdout, /narrow +clone3 +no longer allowed/);
  t.match(r.stdout, /\(narrows\)\n$/);
  const back = await runCli(['diff', `${ARGS}plain-strict.json`, `${ARGS}plain-safe.json`]);
  t.equal(back.code, 1, 'safe widens strict: --fail-on widen exits 1');
  t.match(back.stdout, /widen +ioctl/);
  t.match(back.stdout, /values: request: TCGETS, TIOCGWINSZ → any value \(widened\)/);
  t.notMatch(back.stdout, / socket /, 'both levels restrict socket the same way');
});

t.test('merge --args unions the recordings\' values and overflow flags before writing conditions', async (t) => {
  const out = join(dir, 'merged.json');
  const r = await runCli(['merge', REC, `${ARGS}rec-args-second.json`, '--args', 'strict', '-o', out]);
  t.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(readFileSync(out, 'utf8'));
  const rules = (name: string) => doc.syscalls.filter((s: { names: string[] }) => s.names.includes(name));
  t.equal(rules('socket').length, 5, 'four values from the first, AF_NETLINK SOCK_RAW from the second');
  t.same(rules('ioctl').map((s: { args?: unknown[] }) => s.args ?? []), [[]], 'ioctl overflowed in the second: no condition');
  t.match(r.stderr, /every syscall is in every input/);
  const v = await runCli(['validate', '--strict', out]);
  t.equal(v.code, 0, v.stdout);
  const off = await runCli(['merge', REC, `${ARGS}rec-args-second.json`, '--args', 'off', '-q']);
  t.notOk(JSON.parse(off.stdout).syscalls.some((s: { args?: unknown[] }) => s.args?.length), '--args off: names only');
});
