// runc/crun bundles with a busybox-static rootfs for the tests; the logic
// lives in scripts/lib/oci-bundle.mjs, shared with scripts/measure-runtime-base.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BundleOptions, ContainerRun } from '../../scripts/lib/oci-bundle.mjs';
import { findStaticBusybox, hasCommand, runContainer, runtimeVersion, writeBundle } from '../../scripts/lib/oci-bundle.mjs';

export { findStaticBusybox, hasCommand, runtimeVersion };
export type { ContainerRun };

/** Why a container test cannot run here, or false when it can. */
export function containerSkipReason(runtime: 'runc' | 'crun'): string | false {
  if (process.getuid?.() !== 0) return `${runtime} tests need root`;
  if (!hasCommand(runtime)) return `${runtime} is not installed (apt-get install ${runtime})`;
  if (!findStaticBusybox()) return 'no static busybox for the rootfs (apt-get install busybox-static)';
  return false;
}

let counter = 0;

/** Writes a fresh bundle and runs it once; the container is deleted afterwards. */
export async function runInContainer(runtime: 'runc' | 'crun', opts: BundleOptions, timeoutMs = 30000): Promise<ContainerRun> {
  const dir = mkdtempSync(join(tmpdir(), `sr-bundle-${runtime}-`));
  writeBundle(runtime, dir, opts);
  return runContainer(runtime, dir, `sr-test-${process.pid}-${++counter}`, { timeoutMs });
}
