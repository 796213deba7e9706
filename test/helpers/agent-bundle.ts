// Containers for the agent tests: the shared busybox bundle (scripts/lib/
// oci-bundle.mjs) plus the annotations a CRI runtime would put in config.json,
// run with runc or crun under a given seccomp section.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerRun } from '../../scripts/lib/oci-bundle.mjs';
import { runContainer, writeBundle } from '../../scripts/lib/oci-bundle.mjs';
import { releaseBundle } from './bundle.js';
import { tempDir } from './tmp.js';
import type { TestEnd } from './tmp.js';

export type Runtime = 'runc' | 'crun';

/** containerd's CRI annotations for a container `name` of `image` in pod `namespace/pod`. */
export function criAnnotations(image: string, name: string, namespace = 'default', pod = `${name}-pod`): Record<string, string> {
  return {
    'io.kubernetes.cri.container-type': 'container',
    'io.kubernetes.cri.image-name': image,
    'io.kubernetes.cri.container-name': name,
    'io.kubernetes.cri.sandbox-name': pod,
    'io.kubernetes.cri.sandbox-namespace': namespace,
  };
}

export interface AnnotatedRun {
  runtime: Runtime;
  args: string[];
  seccomp?: unknown;
  annotations?: Record<string, string>;
  /** As `--privileged` makes it: no seccomp, every capability. */
  privileged?: boolean;
  timeoutMs?: number;
  /** The test whose end removes the bundle (else the process's exit): an agent may read its config.json after the container ended. */
  t?: TestEnd;
}

/** In kernel order: bit i of CapBnd is ALL_CAPS[i]. */
const ALL_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ'];

let counter = 0;

/** Runs one container to its end; `id` is unique per call. */
export async function runAnnotated(opts: AnnotatedRun): Promise<ContainerRun & { id: string }> {
  const dir = tempDir(`agent-bundle-${opts.runtime}`);
  const id = `sr-agent-${process.pid}-${++counter}`;
  try {
    const config = writeBundle(opts.runtime, dir, { args: opts.args, seccomp: opts.seccomp }) as Record<string, unknown>;
    config.annotations = { ...(config.annotations as Record<string, string> | undefined), ...opts.annotations };
    if (opts.privileged) {
      // Every capability this process may hand on (root in a restricted VM lacks some: runc would fail to apply them).
      const bounding = BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'}`);
      const caps = ALL_CAPS.filter((_, bit) => (bounding >> BigInt(bit)) & 1n);
      const proc = config.process as { capabilities: Record<string, string[]> };
      for (const set of ['bounding', 'effective', 'permitted']) proc.capabilities[set] = caps;
      delete (config.linux as Record<string, unknown>).seccomp;
    }
    writeFileSync(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    const run = await runContainer(opts.runtime, dir, id, { timeoutMs: opts.timeoutMs ?? 60_000 });
    return { ...run, id };
  } finally {
    await releaseBundle(opts.runtime, id, dir, opts.t);
  }
}
