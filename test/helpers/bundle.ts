// runc/crun bundles with a busybox-static rootfs for the tests; the logic
// lives in scripts/lib/oci-bundle.mjs, shared with scripts/measure-runtime-base.
import type { BundleOptions, ContainerRun } from '../../scripts/lib/oci-bundle.mjs';
import { containerExists, deleteContainer, findStaticBusybox, hasCommand, runContainer, runtimeVersion, writeBundle } from '../../scripts/lib/oci-bundle.mjs';
import { leaveTempDir, removeTempDir, tempDir } from './tmp.js';
import type { TestEnd } from './tmp.js';

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

/** Writes a fresh bundle and runs it once; the container is deleted afterwards, then its bundle. */
export async function runInContainer(runtime: 'runc' | 'crun', opts: BundleOptions, timeoutMs = 30000): Promise<ContainerRun> {
  const dir = tempDir(`bundle-${runtime}`);
  const id = `sr-test-${process.pid}-${++counter}`;
  try {
    writeBundle(runtime, dir, opts);
    return await runContainer(runtime, dir, id, { timeoutMs });
  } finally {
    await removeBundle(runtime, id, dir);
  }
}

/** Removes a bundle from tempDir once its container is gone (deleting it first); never while the runtime still knows it. */
export async function removeBundle(runtime: string, id: string, dir: string): Promise<void> {
  if (await forgotten(runtime, id, dir)) removeTempDir(dir);
}

/**
 * For a bundle an agent may still read after its container ended (its config.json
 * names the container): deletes the container now, and the bundle when `t` ends,
 * else when the process exits; never while the runtime still knows the container.
 */
export async function releaseBundle(runtime: string, id: string, dir: string, t?: TestEnd): Promise<void> {
  if (await forgotten(runtime, id, dir)) t?.teardown(() => removeTempDir(dir));
}

/** `delete -f`, then whether the runtime has forgotten the container; if not, its bundle is left, with a warning. */
async function forgotten(runtime: string, id: string, dir: string): Promise<boolean> {
  await deleteContainer(runtime, id);
  if (!(await containerExists(runtime, id))) return true;
  leaveTempDir(dir, `${runtime} still knows container ${id}`);
  return false;
}
