// A private containerd for the CRI test: its own root, state directory,
// sockets and config (CRI plugin on, the test's pause image as sandbox image,
// the native snapshotter, runc through the v2 shim, no CNI: the test's Pods
// use the node's network). Stopped and cleaned up by `stop()`: containerd and
// the shims it started are ended by pid, mounts under its dirs are undone,
// the dirs removed.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeTempDir } from '../tmp.js';

export interface Containerd {
  dir: string;
  socket: string;
  child: ChildProcess;
  log(): string;
  /** `ctr -n k8s.io images import` of an OCI archive into this containerd. */
  importImage(archive: string): void;
  stop(): Promise<void>;
}

export interface ContainerdOptions {
  dir: string;
  sandboxImage: string;
}

function configToml(dir: string, sandboxImage: string): string {
  const q = (s: string) => JSON.stringify(s);
  return [
    'version = 2',
    `root = ${q(join(dir, 'root'))}`,
    `state = ${q(join(dir, 'state'))}`,
    // The snapshotters this test does not use stay off, so none of them probes the host.
    'disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.overlayfs"]',
    '[grpc]',
    `  address = ${q(join(dir, 'containerd.sock'))}`,
    '[ttrpc]',
    `  address = ${q(join(dir, 'containerd.sock.ttrpc'))}`,
    '[debug]',
    '  level = "info"',
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${q(join(dir, 'opt'))}`,
    '[plugins."io.containerd.grpc.v1.cri"]',
    `  sandbox_image = ${q(sandboxImage)}`,
    // The streaming server (exec/attach) is unused; port 0 keeps it off any fixed port.
    '  stream_server_address = "127.0.0.1"',
    '  stream_server_port = "0"',
    '  enable_selinux = false',
    // The sandbox asks for oom_score_adj -998: lowering it needs CAP_SYS_RESOURCE, which root in a
    // restricted VM may lack; no lower than containerd's own instead.
    '  restrict_oom_score_adj = true',
    '  [plugins."io.containerd.grpc.v1.cri".containerd]',
    '    snapshotter = "native"',
    '    default_runtime_name = "runc"',
    '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
    '      runtime_type = "io.containerd.runc.v2"',
    '  [plugins."io.containerd.grpc.v1.cri".cni]',
    `    bin_dir = ${q(join(dir, 'cni', 'bin'))}`,
    `    conf_dir = ${q(join(dir, 'cni', 'conf'))}`,
    '',
  ].join('\n');
}

/** Pids of the processes whose command line names `needle` (the shims this containerd started). */
function pidsNaming(needle: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').includes(needle)) out.push(Number(name));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

async function waitFor(test: () => boolean, timeoutMs: number, what: string, detail: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error(`${what} not within ${timeoutMs} ms\n${detail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startContainerd(opts: ContainerdOptions): Promise<Containerd> {
  const { dir } = opts;
  for (const d of ['root', 'state', 'opt', 'cni/bin', 'cni/conf']) mkdirSync(join(dir, d), { recursive: true });
  const config = join(dir, 'config.toml');
  writeFileSync(config, configToml(dir, opts.sandboxImage));
  const logPath = join(dir, 'containerd.log');
  const logFd = openSync(logPath, 'a');
  const socket = join(dir, 'containerd.sock');
  const child = spawn('containerd', ['--config', config], { stdio: ['ignore', logFd, logFd] });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.on('exit', () => ((exited = true), resolve())));
  const log = () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');
  await waitFor(() => exited || (existsSync(socket) && log().includes('containerd successfully booted')), 30_000, 'containerd ready', log);
  if (exited) throw new Error(`containerd exited at start:\n${log()}`);

  const ctr = (...args: string[]) => execFileSync('ctr', ['--address', socket, '-n', 'k8s.io', ...args], { stdio: 'pipe', timeout: 60_000 });
  return {
    dir,
    socket,
    child,
    log,
    importImage(archive) {
      ctr('images', 'import', '--snapshotter', 'native', archive);
    },
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exit;
        clearTimeout(killer);
      }
      // Shims outlive containerd by design; these were started for this socket only.
      for (const pid of pidsNaming(socket)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      // its snapshots and shm mounts are unmounted first, never removed through
      removeTempDir(dir);
    },
  };
}
