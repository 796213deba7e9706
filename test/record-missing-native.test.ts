// A checkout whose native part was never built: `record` and `doctor` say what is missing.
import { spawnSync } from 'node:child_process';
import { cpSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { REPO } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

t.test('without build/Release the error names the missing file and the fix', async (t) => {
  const dir = tempDir('nobuild', t);
  cpSync(join(REPO, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(REPO, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  const r = spawnSync(process.execPath, [join(dir, 'dist/cli/main.js'), 'record', '--', 'true'], { encoding: 'utf8' });
  t.equal(r.status, 1);
  t.match(r.stderr, /^error: the native part is not built; run `npm ci` \(or `npm run build`\) in the package directory \(tried: .*build\/Release\/seccomp_recorder\.node: /);
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  const d = spawnSync(process.execPath, [join(dir, 'dist/cli/main.js'), 'doctor'], { encoding: 'utf8' });
  t.equal(d.status, 1);
  t.match(d.stdout, /FAIL native build/);
  t.match(d.stdout, /cannot record on this machine/);
});
