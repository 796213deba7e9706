// Containers for the agent tests: the shared busybox bundle (scripts/lib/
// oci-bundle.mjs) plus the annotations a CRI runtime would put in config.json,
// run with runc or crun under a given seccomp section.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerRun } from '../../scripts/lib/oci-bundle.mjs';
import { runContainer, writeBundle } from '../../scripts/lib/oci-bundle.mjs';

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
  timeoutMs?: number;
}

let counter = 0;

/** Runs one container to its end; `id` is unique per call. */
export async function runAnnotated(opts: AnnotatedRun): Promise<ContainerRun & { id: string }> {
  const dir = mkdtempSync(join(tmpdir(), `sr-agent-bundle-${opts.runtime}-`));
  const config = writeBundle(opts.runtime, dir, { args: opts.args, seccomp: opts.seccomp }) as Record<string, unknown>;
  config.annotations = { ...(config.annotations as Record<string, string> | undefined), ...opts.annotations };
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  const id = `sr-agent-${process.pid}-${++counter}`;
  const run = await runContainer(opts.runtime, dir, id, { timeoutMs: opts.timeoutMs ?? 60_000 });
  return { ...run, id };
}
