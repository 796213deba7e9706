// The entry point (src/cli/main.ts) loads only the command a run names: the
// help still lists every command, each command still answers its own --help
// and `help NAME`, and an unknown name is still a usage error.
import t from 'tap';
import { runCli } from './helpers/cli.js';

const COMMANDS = ['record', 'doctor', 'diff', 'generate', 'merge', 'export', 'explain', 'validate', 'run', 'agent', 'recording-profile', 'recordings', 'import-audit', 'lint', 'patch'];

t.test('--help lists every command, in the order of the table', async (t) => {
  const r = await runCli(['--help']);
  t.equal(r.code, 0);
  const listed = [...r.stdout.split('Commands:')[1].matchAll(/^ {2}([a-z-]+)/gm)].map((m) => m[1]).filter((n) => n !== 'help');
  t.same(listed, COMMANDS);
});

t.test('each command answers --help and `help NAME` with its own usage', async (t) => {
  for (const name of ['import-audit', 'generate', 'recordings']) {
    for (const args of [[name, '--help'], ['help', name]]) {
      const r = await runCli(args);
      t.equal(r.code, 0, args.join(' '));
      t.match(r.stdout, new RegExp(`^Usage: seccomp-recorder ${name} `), args.join(' '));
    }
  }
});

t.test('an unknown command and a bad option of a named command are usage errors (exit 2)', async (t) => {
  const unknown = await runCli(['nosuch']);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /unknown command 'nosuch'/);
  const bad = await runCli(['import-audit', '--no-such-option', 'x', '--image', 'i']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /unknown option '--no-such-option'/);
  const version = await runCli(['--version']);
  t.equal(version.code, 0);
  t.match(version.stdout, /^\d+\.\d+\.\d+/);
});
