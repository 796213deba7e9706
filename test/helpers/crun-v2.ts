// crun containers in a cgroup v2 of their own on this hybrid VM, as a pure v2
// node gives them. crun 1.8.1 refuses hybrid cgroups, so it runs in a private
// mount namespace without /sys/fs/cgroup/unified, where it makes NO v2 cgroup:
// its container stays in its invoker's. So: make a fresh v2 cgroup per
// container, run `crun create` from INSIDE it (test/fixtures/cgroup-exec.c:
// move, then exec crun through a file descriptor, which the bpf programs do not
// take for the workload's start) so the container process lands there, and
// `crun start` from OUTSIDE it, so crun's own post-start calls stay out. The
// entrypoint's exec is then the cgroup's first exec of a path, as with the
// cgroup crun makes itself on a pure v2 host.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeBundle } from '../../scripts/lib/oci-bundle.mjs';
import { cgroup2Root } from '../../src/record/bpf/cgroup2.js';
import { releaseBundle } from './bundle.js';
import { fixture } from './fixtures.js';
import { tempDir } from './tmp.js';
import type { TestEnd } from './tmp.js';

export interface CrunV2Run {
  id: string;
  /** `crun create`'s exit code (crun does not hand the container's own exit code to a later `start`). */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

const privateNs = (args: string[]) => ['unshare', '-m', 'sh', '-c', 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$@"', 'sh', ...args];

let counter = 0;

/** `t`: the test whose end removes the bundle (else the process's exit), as runAnnotated's. */
export async function runCrunInOwnCgroup(opts: { args: string[]; annotations?: Record<string, string>; timeoutMs?: number; t?: TestEnd }): Promise<CrunV2Run> {
  const bundle = tempDir('bpf-crun');
  const id = `sr-bpf-crun-${process.pid}-${++counter}`;
  const parent = join(cgroup2Root(), 'sr-test-crun');
  const dir = join(parent, id);
  const crun = execFileSync('sh', ['-c', 'command -v crun'], { encoding: 'utf8' }).trim();
  const timeoutMs = opts.timeoutMs ?? 30_000;
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  mkdirSync(dir, { recursive: true });
  try {
    const config = writeBundle('crun', bundle, { args: opts.args }) as Record<string, unknown>;
    config.annotations = { ...(config.annotations as Record<string, string> | undefined), ...opts.annotations };
    writeFileSync(join(bundle, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    const create = spawn(fixture('cgroup-exec'), [dir, crun, 'create', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    create.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    create.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // The container keeps crun's stdout: 'close' is the container's end, 'exit' crun create's.
    const closed = new Promise<void>((resolve) => create.on('close', () => resolve()));
    const created = await new Promise<number | null>((resolve) => create.on('exit', (code) => resolve(code)));
    if (created !== 0) return { id, code: created, stdout, stderr, timedOut };
    const [file, ...args] = privateNs([crun, 'start', id]);
    await new Promise<void>((resolve, reject) => execFile(file, args, { timeout: 10_000 }, (err, _o, e) => (err ? reject(new Error(`crun start: ${e || err.message}`)) : resolve())));
    const timer = setTimeout(() => {
      timedOut = true;
      const [f, ...a] = privateNs([crun, 'kill', id, 'KILL']);
      execFile(f, a, () => undefined);
    }, timeoutMs);
    await closed;
    clearTimeout(timer);
    return { id, code: created, stdout, stderr, timedOut };
  } finally {
    const [f, ...a] = privateNs([crun, 'delete', '-f', id]);
    try {
      execFileSync(f, a, { stdio: 'pipe' });
    } catch {
      /* never created */
    }
    await releaseBundle('crun', id, bundle, opts.t);
    for (let i = 0; i < 50; i++) {
      try {
        rmdirSync(dir);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}
