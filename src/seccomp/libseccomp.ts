// libseccomp through koffi: the only module that declares C prototypes.
// Prototype strings follow seccomp.h of libseccomp 2.5. The variadic
// seccomp_rule_add is deliberately absent: rules go through
// seccomp_rule_add_array. Loaded lazily; a missing library is an UnsupportedError.
import koffi from 'koffi';
import type { LibraryHandle } from 'koffi';
import { SeccompError, UnsupportedError } from '../errors.js';
import { errnoName } from '../util/errno.js';

const LIBRARY_NAMES = ['libseccomp.so.2', 'libseccomp.so'];

export interface ScmpArgCmp {
  arg: number;
  op: number;
  datumA: bigint;
  datumB: bigint;
}

interface Bindings {
  version: { major: number; minor: number; micro: number };
  apiLevel: number;
  seccomp_init(defAction: number): unknown;
  seccomp_release(ctx: unknown): void;
  seccomp_arch_add(ctx: unknown, token: number): number;
  seccomp_arch_remove(ctx: unknown, token: number): number;
  seccomp_arch_native(): number;
  seccomp_arch_resolve_name(name: string): number;
  seccomp_attr_set(ctx: unknown, attr: number, value: number): number;
  seccomp_rule_add_array(ctx: unknown, action: number, syscall: number, count: number, args: object[] | null): number;
  seccomp_export_bpf(ctx: unknown, fd: number): number;
  seccomp_export_pfc(ctx: unknown, fd: number): number;
  seccomp_syscall_resolve_num_arch(token: number, nr: number): string | null;
  seccomp_syscall_resolve_name_arch(token: number, name: string): number;
}

let bindings: Bindings | undefined;

function load(): Bindings {
  if (bindings) return bindings;
  let lib: LibraryHandle | undefined;
  const errors: string[] = [];
  for (const name of LIBRARY_NAMES) {
    try {
      lib = koffi.load(name);
      break;
    } catch (err) {
      errors.push(`${name}: ${(err as Error).message}`);
    }
  }
  if (!lib) throw new UnsupportedError('libseccomp is not installed (Debian: apt-get install libseccomp2)', errors);

  const scmpVersion = koffi.struct('scmp_version', { major: 'uint', minor: 'uint', micro: 'uint' });
  koffi.struct('scmp_arg_cmp', { arg: 'uint', op: 'int', datum_a: 'uint64_t', datum_b: 'uint64_t' });
  const heapStr = koffi.disposable('seccomp_heap_str', 'str');
  void heapStr;

  const f = {
    seccomp_version: lib.func('const scmp_version *seccomp_version(void)'),
    seccomp_api_get: lib.func('unsigned int seccomp_api_get(void)'),
    seccomp_init: lib.func('void *seccomp_init(uint32_t def_action)'),
    seccomp_release: lib.func('void seccomp_release(void *ctx)'),
    seccomp_arch_add: lib.func('int seccomp_arch_add(void *ctx, uint32_t arch_token)'),
    seccomp_arch_remove: lib.func('int seccomp_arch_remove(void *ctx, uint32_t arch_token)'),
    seccomp_arch_native: lib.func('uint32_t seccomp_arch_native(void)'),
    seccomp_arch_resolve_name: lib.func('uint32_t seccomp_arch_resolve_name(const char *arch_name)'),
    seccomp_attr_set: lib.func('int seccomp_attr_set(void *ctx, int attr, uint32_t value)'),
    seccomp_rule_add_array: lib.func(
      'int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int arg_cnt, const scmp_arg_cmp *arg_array)',
    ),
    seccomp_export_bpf: lib.func('int seccomp_export_bpf(void *ctx, int fd)'),
    seccomp_export_pfc: lib.func('int seccomp_export_pfc(void *ctx, int fd)'),
    seccomp_syscall_resolve_num_arch: lib.func('seccomp_heap_str seccomp_syscall_resolve_num_arch(uint32_t arch_token, int num)'),
    seccomp_syscall_resolve_name_arch: lib.func('int seccomp_syscall_resolve_name_arch(uint32_t arch_token, const char *name)'),
  };
  const version = koffi.decode(f.seccomp_version(), scmpVersion) as Bindings['version'];
  // Notify-related calls fail with -EOPNOTSUPP until the API level was probed once.
  const apiLevel = f.seccomp_api_get() as number;
  bindings = { ...f, version, apiLevel } as unknown as Bindings;
  return bindings;
}

/** Throws a SeccompError for a negative libseccomp return. */
export function check(rc: number, what: string): number {
  if (rc < 0) {
    const name = errnoName(-rc);
    throw new SeccompError(`${what} failed: ${name}`, name);
  }
  return rc;
}

export function libseccomp(): Bindings {
  return load();
}

/** `2.5.4`, or throws UnsupportedError. */
export function libseccompVersion(): string {
  const v = load().version;
  return `${v.major}.${v.minor}.${v.micro}`;
}

/** libseccomp's arch token for its arch name; undefined when it does not know it. */
export function archToken(name: string): number | undefined {
  const t = load().seccomp_arch_resolve_name(name);
  return t === 0 ? undefined : t >>> 0;
}

/** The syscall's name on that arch, or undefined (libseccomp does not know it). */
export function syscallName(token: number, nr: number): string | undefined {
  const s = load().seccomp_syscall_resolve_num_arch(token, nr);
  return s ?? undefined;
}

/**
 * The syscall's number on that arch: >= 0 when it exists there, a negative
 * pseudo number (<= -10000) when libseccomp knows it but the arch lacks it,
 * undefined when libseccomp does not know the name at all.
 */
export function syscallNumber(token: number, name: string): number | undefined {
  const n = load().seccomp_syscall_resolve_name_arch(token, name);
  return n === -1 ? undefined : n;
}
