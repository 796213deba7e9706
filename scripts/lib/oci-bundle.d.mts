// Types for oci-bundle.mjs (used from the TypeScript tests).
export interface ContainerRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}
export interface BundleOptions {
  args: string[];
  seccomp?: unknown;
  noNewPrivileges?: boolean;
  busybox?: string;
}
export const BUSYBOX_CANDIDATES: string[];
export function findStaticBusybox(): string | undefined;
export function hasCommand(cmd: string): boolean;
export function runtimeVersion(runtime: string): { version: string; text: string };
export function buildRootfs(dir: string, busybox?: string): string;
export function bundleConfig(runtime: string, dir: string, opts: BundleOptions): Record<string, any>;
export function writeBundle(runtime: string, dir: string, opts: BundleOptions): Record<string, any>;
export function isMountpoint(path: string): boolean;
export function runArgv(runtime: string, bundle: string, id: string): string[];
export function runContainer(runtime: string, bundle: string, id: string, opts?: { timeoutMs?: number }): Promise<ContainerRun>;
export function deleteContainer(runtime: string, id: string): Promise<void>;
export function containerExists(runtime: string, id: string): Promise<boolean>;
