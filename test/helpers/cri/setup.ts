// The CRI test's node: a private containerd with the test's two images
// imported (busybox-static workload, static pause sandbox) and a kubelet-like
// directory (<root>/kubelet/seccomp, <root>/pods for logs). Why it cannot
// run here, when it cannot.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { buildRootfs, findStaticBusybox, hasCommand } from '../../../scripts/lib/oci-bundle.mjs';
import { fixture } from '../fixtures.js';
import { removeTempDir, tempDir } from '../tmp.js';
import { criClient } from './client.js';
import type { CriClient } from './client.js';
import { startContainerd } from './containerd.js';
import type { Containerd } from './containerd.js';
import { writeOciArchive } from './oci-image.js';

export const WORKLOAD_IMAGE = 'test.local/cri-busybox:1';
export const PAUSE_IMAGE = 'test.local/cri-pause:1';

export interface CriNode {
  dir: string;
  containerd: Containerd;
  cri: CriClient;
  /** The kubelet's root: Localhost profiles live under <kubeletRoot>/seccomp. */
  kubeletRoot: string;
  logDir: string;
  stop(): Promise<void>;
}

export function criSkipReason(): string | false {
  if (process.getuid?.() !== 0) return 'the CRI test needs root (containerd, runc)';
  for (const cmd of ['containerd', 'ctr', 'containerd-shim-runc-v2', 'runc'])
    if (!hasCommand(cmd)) return `${cmd} is not installed (apt-get install containerd runc)`;
  if (!findStaticBusybox()) return 'no static busybox for the image (apt-get install busybox-static)';
  if (!hasCommand('gcc')) return 'gcc is needed to build the pause program (test/fixtures/pause.c)';
  // gcc prints the bare name when it has no static libc to link the pause program with.
  const libc = execFileSync('gcc', ['-print-file-name=libc.a'], { encoding: 'utf8' }).trim();
  if (!isAbsolute(libc) || !existsSync(libc)) return 'gcc cannot link statically: no libc.a (apt-get install libc6-dev)';
  return false;
}

export async function startCriNode(): Promise<CriNode> {
  const dir = tempDir('cri');
  const images = join(dir, 'images');
  mkdirSync(images);
  const workloadRoot = join(images, 'busybox');
  buildRootfs(workloadRoot);
  const pauseRoot = join(images, 'pause');
  mkdirSync(join(pauseRoot, 'rootfs'), { recursive: true });
  copyFileSync(fixture('pause', ['-static']), join(pauseRoot, 'rootfs', 'pause'));
  chmodSync(join(pauseRoot, 'rootfs', 'pause'), 0o755);
  writeOciArchive(join(images, 'busybox.tar'), { ref: WORKLOAD_IMAGE, rootfs: join(workloadRoot, 'rootfs') });
  writeOciArchive(join(images, 'pause.tar'), { ref: PAUSE_IMAGE, rootfs: join(pauseRoot, 'rootfs'), cmd: ['/pause'] });

  const containerd = await startContainerd({ dir: join(dir, 'containerd'), sandboxImage: PAUSE_IMAGE });
  const cri = criClient(containerd.socket);
  const stop = async () => {
    cri.close();
    await containerd.stop();
    removeTempDir(dir);
  };
  try {
    containerd.importImage(join(images, 'busybox.tar'));
    containerd.importImage(join(images, 'pause.tar'));
    const kubeletRoot = join(dir, 'kubelet');
    mkdirSync(join(kubeletRoot, 'seccomp'), { recursive: true });
    const logDir = join(dir, 'pods');
    mkdirSync(logDir);
    return { dir, containerd, cri, kubeletRoot, logDir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
