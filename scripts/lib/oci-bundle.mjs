// OCI bundles for runc and crun with a busybox-static rootfs, and running them
// with a timeout. Shared by scripts/measure-runtime-base and the tests (through
// test/helpers/bundle.ts). Plain JS so the script needs no TypeScript loader.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];
const APPLETS = ['sh', 'true', 'false', 'echo', 'cat', 'ls', 'sleep', 'id'];

/** Path of a statically linked busybox, or undefined (Debian: busybox-static). */
export function findStaticBusybox() {
  for (const p of BUSYBOX_CANDIDATES) {
    if (!existsSync(p)) continue;
    // A dynamic binary carries PT_INTERP (".interp"); a static one does not.
    const head = readFileSync(p).subarray(0, 1 << 16);
    if (!head.includes(Buffer.from('/lib64/ld-linux')) && !head.includes(Buffer.from('/lib/ld-'))) return p;
  }
  return undefined;
}

export function hasCommand(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** The runtime's version from `<runtime> --version` ("1.1.5"), and the full first line. */
export function runtimeVersion(runtime) {
  const out = execFileSync(runtime, ['--version'], { encoding: 'utf8', timeout: 5000 });
  const first = out.split('\n')[0].trim();
  const m = /version\s+v?(\d+\.\d+(?:\.\d+)?)/.exec(first);
  if (!m) throw new Error(`cannot read a version from \`${runtime} --version\`: ${first}`);
  return { version: m[1], text: out.trim() };
}

/** Creates <dir>/rootfs with /bin/busybox and applet symlinks, and the usual mount points. */
export function buildRootfs(dir, busybox = findStaticBusybox()) {
  if (!busybox) throw new Error('no statically linked busybox found (Debian: apt-get install busybox-static)');
  const rootfs = join(dir, 'rootfs');
  for (const d of ['bin', 'proc', 'dev', 'sys', 'tmp', 'etc']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync(busybox, join(rootfs, 'bin', 'busybox'));
  execFileSync('chmod', ['0755', join(rootfs, 'bin', 'busybox')]);
  for (const a of APPLETS) if (!existsSync(join(rootfs, 'bin', a))) symlinkSync('busybox', join(rootfs, 'bin', a));
  writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/:/bin/sh\n');
  return rootfs;
}

/**
 * A bundle config from the runtime's own `spec`, made non-interactive, with
 * the given args, seccomp section and no_new_privs setting.
 */
export function bundleConfig(runtime, dir, { args, seccomp, noNewPrivileges = true }) {
  // `spec` refuses to overwrite; a bundle is rewritten for every run.
  rmSync(join(dir, 'config.json'), { force: true });
  execFileSync(runtime, ['spec'], { cwd: dir, stdio: 'pipe' });
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  config.process.terminal = false;
  config.process.args = args;
  config.process.noNewPrivileges = noNewPrivileges;
  if (seccomp) config.linux.seccomp = seccomp;
  else delete config.linux.seccomp;
  return config;
}

export function writeBundle(runtime, dir, opts) {
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, 'rootfs', 'bin', 'busybox'))) buildRootfs(dir, opts.busybox);
  const config = bundleConfig(runtime, dir, opts);
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return config;
}

/** Whether path is a mount point (util-linux `mountpoint`). */
export function isMountpoint(path) {
  try {
    execFileSync('mountpoint', ['-q', path], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * argv that runs the container. crun 1.8 refuses a hybrid cgroup layout; it
 * runs in a private mount namespace with the v2 mount removed (the host keeps it).
 */
export function runArgv(runtime, bundle, id) {
  if (runtime === 'crun' && isMountpoint('/sys/fs/cgroup/unified'))
    return ['unshare', '-m', 'sh', '-c', 'umount /sys/fs/cgroup/unified && exec crun run --bundle "$0" "$1"', bundle, id];
  return [runtime, 'run', '--bundle', bundle, id];
}

/**
 * Runs the container to its end. Asynchronous on purpose: a listener served
 * in this process needs the event loop free. On timeout the whole process
 * group is killed (runc init can hang in the kernel) and the container deleted.
 */
export function runContainer(runtime, bundle, id, { timeoutMs = 30000 } = {}) {
  const argv = runArgv(runtime, bundle, id);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      void deleteContainer(runtime, id).then(() => resolve({ code, signal, stdout, stderr, timedOut }));
    });
  });
}

/**
 * Best-effort `delete -f`, so a failed run leaves no state behind. Resolves
 * (never rejects) once the runtime has exited; asynchronous so that a
 * listener or agent served in this process keeps its event loop meanwhile.
 */
export function deleteContainer(runtime, id) {
  return new Promise((resolve) => {
    // An error means it was never created, or is gone: nothing to report.
    execFile(runtime, ['delete', '-f', id], { timeout: 10000 }, () => resolve());
  });
}

/**
 * Whether the runtime still knows container `id` (`state` succeeds, or fails for a
 * reason other than its absence): its bundle must not be removed yet. Asynchronous,
 * as deleteContainer, so a listener served in this process keeps its event loop.
 */
export function containerExists(runtime, id) {
  return new Promise((resolve) => {
    execFile(runtime, ['state', id], { timeout: 10000 }, (err, _stdout, stderr) => {
      if (!err) resolve(true);
      else if (err.code === 'ENOENT') resolve(false); // no such runtime: it made no container
      else resolve(!/does not exist|No such file or directory/.test(String(stderr)));
    });
  });
}
