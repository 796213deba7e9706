// The coverage report: from several recordings of one workload, `explain`
// lists the calls seen in only some runs, and warns when a profile rests on a
// single recording.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { coverageOf, explainProfile, formatExplanation } from '../src/profile/explain.js';
import { allowListProfile } from '../src/profile/model.js';
import type { Recording } from '../src/profile/recording.js';
import { serializeOci } from '../src/profile/oci.js';
import { serializeRecording } from '../src/profile/recording.js';
import { runCli } from './helpers/cli.js';
import { recordingOfNames } from './helpers/recordings.js';
import { sharedTempDir } from './helpers/tmp.js';

const rec = (names: string[]): Recording => recordingOfNames(names);

const runs = [rec(['read', 'write', 'exit_group', 'pwrite64']), rec(['read', 'write', 'exit_group', 'pwritev', 'rename']), rec(['read', 'write', 'exit_group', 'pwrite64'])];

t.test('coverageOf: per syscall, how many runs saw it', async (t) => {
  t.same(coverageOf(runs), {
    runs: 3,
    partial: [
      { syscall: 'pwritev', runs: 1 },
      { syscall: 'rename', runs: 1 },
      { syscall: 'pwrite64', runs: 2 },
    ],
  });
  t.same(coverageOf([runs[0], runs[0]]).partial, [], 'the same run twice: nothing partial');
});

t.test('explain: calls seen in only some runs; a warning for a single recording', async (t) => {
  const profile = allowListProfile(['x86_64'], ['read', 'write', 'exit_group', 'pwrite64', 'pwritev', 'rename']);
  const three = formatExplanation(explainProfile(profile, { recordings: runs.map((recording, i) => ({ file: `r${i}.json`, recording })) }), { file: 'p.json', baselineLabel: 'none' });
  t.match(three, /coverage: 3 syscalls seen in only some of the 3 recordings[^\n]*\n {2}in 1 of 3: pwritev, rename\n {2}in 2 of 3: pwrite64/);
  t.notMatch(three, /single recording/);
  const one = formatExplanation(explainProfile(profile, { recordings: [{ file: 'r0.json', recording: runs[0] }] }), { file: 'p.json', baselineLabel: 'none' });
  t.match(one, /warning: this profile rests on a single recording/);
  const none = formatExplanation(explainProfile(profile), { file: 'p.json', baselineLabel: 'none' });
  t.notMatch(none, /coverage|single recording/, 'no recordings given: nothing claimed');

  const dir = sharedTempDir('coverage', t);
  const files = runs.map((r, i) => {
    const f = join(dir, `run${i}.json`);
    writeFileSync(f, serializeRecording(r));
    return f;
  });
  const pf = join(dir, 'p.json');
  writeFileSync(pf, serializeOci(profile));
  const cli = await runCli(['explain', pf, '--no-baseline', ...files.flatMap((f) => ['--recording', f])]);
  t.equal(cli.code, 0, cli.stderr);
  t.match(cli.stdout, /in 1 of 3: pwritev, rename/);
  const json = await runCli(['explain', pf, '--no-baseline', '--json', '--recording', files[0]]);
  t.same(JSON.parse(json.stdout).coverage, { runs: 1, partial: [] });
  const single = await runCli(['explain', pf, '--no-baseline', '--recording', files[0]]);
  t.match(single.stdout, /warning: this profile rests on a single recording/);
});
