// libseccomp through koffi: the only module that declares C prototypes.
// Prototype strings follow seccomp.h of libseccomp 2.5. The variadic
// seccomp_rule_add is deliberately absent: rules go through
// seccomp_rule_add_array. Loaded lazily; a missing library is an UnsupportedError.
import { closeSync, openSync, readFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  seccomp_syscall_priority(ctx: unknown, syscall: number, priority: number): number;
  seccomp_export_bpf(ctx: unknown, fd: number): number;
  seccomp_export_pfc(ctx: unknown, fd: number): number;
  seccomp_syscall_resolve_num_arch(token: number, nr: number): string | null;
  seccomp_syscall_resolve_name_arch(token: number, name: string): number;
  seccomp_syscall_resolve_name(name: string): number;
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
    seccomp_syscall_priority: lib.func('int seccomp_syscall_priority(void *ctx, int syscall, uint8_t priority)'),
    seccomp_export_bpf: lib.func('int seccomp_export_bpf(void *ctx, int fd)'),
    seccomp_export_pfc: lib.func('int seccomp_export_pfc(void *ctx, int fd)'),
    seccomp_syscall_resolve_num_arch: lib.func('seccomp_heap_str seccomp_syscall_resolve_num_arch(uint32_t arch_token, int num)'),
    seccomp_syscall_resolve_name_arch: lib.func('int seccomp_syscall_resolve_name_arch(uint32_t arch_token, const char *name)'),
    seccomp_syscall_resolve_name: lib.func('int seccomp_syscall_resolve_name(const char *name)'),
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

// ---- filter building (used by ./compile.ts) ----

/** Action values as seccomp.h defines them (SCMP_ACT_*). */
export const SCMP_ACT = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  NOTIFY: 0x7fc00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
  errno: (ret: number) => (0x00050000 | (ret & 0xffff)) >>> 0,
  trace: (ret: number) => (0x7ff00000 | (ret & 0xffff)) >>> 0,
} as const;

/** enum scmp_compare. */
export const SCMP_CMP = { NE: 1, LT: 2, LE: 3, EQ: 4, GE: 5, GT: 6, MASKED_EQ: 7 } as const;

/** enum scmp_filter_attr. CTL_WAITKILL (10) exists from libseccomp 2.6 on. */
export const SCMP_FLTATR = { ACT_DEFAULT: 1, ACT_BADARCH: 2, CTL_NNP: 3, CTL_TSYNC: 4, CTL_LOG: 6, CTL_SSB: 7, CTL_OPTIMIZE: 8, CTL_WAITKILL: 10 } as const;

declare const filterBrand: unique symbol;
/** An opaque scmp_filter_ctx; release it with releaseFilter. */
export type FilterContext = { readonly [filterBrand]: true };

/** seccomp_init; throws SeccompError when libseccomp refuses the default action. */
export function initFilter(defaultAction: number): FilterContext {
  const ctx = load().seccomp_init(defaultAction >>> 0);
  if (!ctx) throw new SeccompError(`seccomp_init(0x${(defaultAction >>> 0).toString(16)}) failed: EINVAL`, 'EINVAL');
  return ctx as FilterContext;
}

export function releaseFilter(ctx: FilterContext): void {
  load().seccomp_release(ctx);
}

/** Raw return (0 or -errno) of seccomp_arch_add: callers decide whether EEXIST matters. */
export function archAdd(ctx: FilterContext, token: number): number {
  return load().seccomp_arch_add(ctx, token >>> 0);
}

export function archRemove(ctx: FilterContext, token: number): number {
  return load().seccomp_arch_remove(ctx, token >>> 0);
}

/** libseccomp's native arch token (AUDIT_ARCH_* of this machine). */
export function nativeArchToken(): number {
  return load().seccomp_arch_native() >>> 0;
}

/** Raw return (0 or -errno) of seccomp_attr_set. */
export function attrSet(ctx: FilterContext, attr: number, value: number): number {
  return load().seccomp_attr_set(ctx, attr, value >>> 0);
}

/** Raw return (0 or -errno) of seccomp_rule_add_array; never the variadic form. */
export function ruleAddArray(ctx: FilterContext, action: number, syscall: number, conditions: readonly ScmpArgCmp[]): number {
  const args = conditions.map((c) => ({ arg: c.arg, op: c.op, datum_a: c.datumA, datum_b: c.datumB }));
  return load().seccomp_rule_add_array(ctx, action >>> 0, syscall, args.length, args.length ? args : null);
}

/** Raw return (0 or -errno) of seccomp_syscall_priority: 255 is tested first, 0 last (a hint libseccomp may reorder within). */
export function syscallPriority(ctx: FilterContext, syscall: number, priority: number): number {
  return load().seccomp_syscall_priority(ctx, syscall, priority);
}

/**
 * The syscall's number on the native arch, as runc resolves names
 * (seccomp_syscall_resolve_name): a pseudo number <= -10000 when the native
 * arch lacks it, undefined when libseccomp does not know it.
 */
export function nativeSyscallNumber(name: string): number | undefined {
  const n = load().seccomp_syscall_resolve_name(name);
  return n === -1 ? undefined : n;
}

/**
 * Runs one of the seccomp_export_* calls into a private temp file and returns
 * its bytes. Synchronous: the output is small and goes to a regular file.
 */
function exportTo(ctx: FilterContext, what: 'bpf' | 'pfc'): Buffer {
  const path = join(tmpdir(), `seccomp-recorder-export-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const fd = openSync(path, 'wx+', 0o600);
  try {
    const rc = what === 'bpf' ? load().seccomp_export_bpf(ctx, fd) : load().seccomp_export_pfc(ctx, fd);
    check(rc, `seccomp_export_${what}`);
    return readFileSync(path);
  } finally {
    closeSync(fd);
    unlinkSync(path);
  }
}

/** The filter as a raw BPF program (struct sock_filter[], host byte order). */
export function exportBpf(ctx: FilterContext): Buffer {
  return exportTo(ctx, 'bpf');
}

/** The filter as libseccomp's pseudo filter code (human-readable). */
export function exportPfc(ctx: FilterContext): string {
  return exportTo(ctx, 'pfc').toString('utf8');
}

/** libseccomp's API level (6 or more: user-notify usable). */
export function apiLevel(): number {
  return load().apiLevel;
}
