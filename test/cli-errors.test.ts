// Every command's ordinary mistakes (missing files, bad JSON, bad flags, empty
// recordings, ...) end in a typed error: non-zero exit, `error: <message>`,
// no "internal error" and no stack trace.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('cli-errors');
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const MISSING = join(dir, 'missing.json');
const BAD_JSON = file('bad.json', '{"defaultAction": ');
const EMPTY = file('empty.json', '');
const NOT_PROFILE = file('array.json', '[1, 2, 3]');
const EMPTY_RECORDING = file(
  'empty-recording.json',
  JSON.stringify({
    kind: 'seccomp-recorder/recording',
    version: 1,
    identity: { command: ['/bin/true'] },
    arches: [],
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:00:01.000Z',
    exit: { code: 0, signal: null },
    tool: { name: 'seccomp-recorder', version: '0.1.0' },
    observations: [],
  }),
);
const PROFILE = file('p.json', JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] }));
const BAD_YAML = file('bad.yaml', 'kind: Pod\nspec:\n  containers: [\n');
const POD = file('pod.yaml', 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: nginx}\n');
const DENY_UNKNOWN = file('deny-unknown.json', JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['no_such_call'], action: 'SCMP_ACT_ERRNO' }] }));

const CASES: string[][] = [
  ['no-such-command'],
  ['record'],
  ['record', '--source', 'carrier-pigeon', '--', 'true'],
  ['record', '-o', dir, '--', 'true'],
  ['record', '--', join(dir, 'no-such-program')],
  ['generate', MISSING],
  ['generate', BAD_JSON],
  ['generate', EMPTY],
  ['generate', EMPTY_RECORDING],
  ['generate', EMPTY_RECORDING, '--arch', 'sparc'],
  ['generate', NOT_PROFILE],
  ['generate', PROFILE, '--baseline', MISSING],
  ['merge'],
  ['merge', MISSING],
  ['merge', BAD_JSON, PROFILE],
  ['merge', EMPTY_RECORDING, '--check', MISSING],
  ['validate', MISSING],
  ['validate', PROFILE, '--arch', 'sparc'],
  ['validate', PROFILE, '--against-baseline', BAD_JSON],
  ['diff', PROFILE],
  ['diff', PROFILE, MISSING],
  ['diff', BAD_JSON, PROFILE],
  ['diff', PROFILE, PROFILE, '--format', 'xml'],
  ['explain', MISSING],
  ['explain', NOT_PROFILE],
  ['explain', PROFILE, '--caps', 'CAP_FLYING'],
  ['explain', PROFILE, '--kernel', 'latest'],
  ['explain', PROFILE, '--baseline', BAD_JSON],
  ['explain', PROFILE, '--recording', PROFILE],
  ['export', MISSING, '--name', 'x'],
  ['export', PROFILE, '--name', '../etc/passwd', '--kubelet-root', dir],
  ['run', '--profile', MISSING, '--', 'true'],
  ['run', '--profile', BAD_JSON, '--', 'true'],
  ['run', '--profile', DENY_UNKNOWN, '--', 'true'],
  ['run', '--', 'true'],
  ['import-audit', MISSING],
  ['import-audit', EMPTY, '--image', 'app', '--pid', 'abc'],
  ['import-audit', MISSING, '--image', 'app'],
  ['recording-profile', '--mode', 'sideways'],
  ['recording-profile', '--runtime', 'runc', '--arch', 'vax'],
  ['recordings', 'list', '--api-socket', join(dir, 'no-agent.sock')],
  ['agent', '--batch-interval', 'soon'],
  ['lint', MISSING],
  ['lint', BAD_YAML],
  ['patch', BAD_YAML, '--map', 'nginx=web'],
  ['patch', POD],
  ['patch', POD, '--map', 'nginx=../web'],
];

for (const args of CASES) {
  t.test(args.map((a) => a.replace(dir, '$TMP')).join(' '), async (t) => {
    const r = await runCli(args, { timeoutMs: 30000 });
    t.not(r.code, 0, `exits non-zero: ${r.stderr}`);
    t.match(r.stderr, /^error: |\nerror: /, 'says error: <message>');
    t.notMatch(r.stderr, /internal error/, 'not an internal error');
    t.notMatch(r.stderr, /\n\s+at .*:\d+:\d+/, 'no stack trace');
  });
}
