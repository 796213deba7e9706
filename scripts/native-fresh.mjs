#!/usr/bin/env node
// Before `npm test`: the native build must be at least as new as its sources
// (native/, binding.gyp), or the tests would pass against a stale addon and
// launcher. A stale or missing build is rebuilt with node-gyp; when that is
// not possible, this refuses with a message saying what to run.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUTPUTS = ['build/Release/seccomp_recorder.node', 'build/Release/seccomp-recorder-launcher'];

function newestSource() {
  let newest = { path: 'binding.gyp', mtime: statSync(join(ROOT, 'binding.gyp')).mtimeMs };
  const walk = (dir) => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const rel = join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else {
        const mtime = statSync(join(ROOT, rel)).mtimeMs;
        if (mtime > newest.mtime) newest = { path: rel, mtime };
      }
    }
  };
  walk('native');
  return newest;
}

/** Why the build is stale, or undefined when it is fresh. */
function staleness() {
  const src = newestSource();
  for (const out of OUTPUTS) {
    let mtime;
    try {
      mtime = statSync(join(ROOT, out)).mtimeMs;
    } catch {
      return `${out} is missing`;
    }
    if (mtime < src.mtime) return `${src.path} is newer than ${out}`;
  }
  return undefined;
}

const why = staleness();
if (why) {
  process.stderr.write(`native build is stale (${why}): running node-gyp rebuild\n`);
  const r = spawnSync('node-gyp', ['rebuild'], { cwd: ROOT, stdio: 'inherit' });
  const still = r.error || r.status !== 0 ? (r.error?.message ?? `node-gyp exited with ${r.status}`) : staleness();
  if (still) {
    process.stderr.write(`error: the native build could not be brought up to date (${still}); run \`npm run build\` and try again\n`);
    process.exit(1);
  }
}
