// The bpf source's kernel side, typed: opens the raw-tracepoint programs with
// the watch list and exec calls resolved for this kernel's ABIs, and wraps
// cgroup add/ignore/read/forget. A kernel or capability that refuses the
// programs gives one UnsupportedError saying what is missing.
import { UnsupportedError } from '../../errors.js';
import { archesOfKernel, X32_SYSCALL_BIT } from '../../seccomp/arch.js';
import { archToken, syscallNumber } from '../../seccomp/libseccomp.js';
import type { BpfCgroupRead, BpfHandle } from '../native.js';
import { nativeAddon } from '../native.js';
import { resolveWatches } from '../watches.js';

/** ABI index the programs use: the kernel tells the three x86_64 ABIs apart. */
const ABI_INDEX: Readonly<Record<string, number>> = { x86_64: 0, x86: 1, x32: 2 };

/** The execs that may start a workload, with execveat's flags argument (AT_EMPTY_PATH). */
const EXEC_CALLS: ReadonlyArray<{ syscall: string; flagsArg: number }> = [
  { syscall: 'execve', flagsArg: -1 },
  { syscall: 'execveat', flagsArg: 4 },
];

function bpfArches(): string[] {
  return archesOfKernel().filter((a) => a in ABI_INDEX);
}

function watchTuples(): Int32Array {
  const out: number[] = [];
  for (const w of resolveWatches(bpfArches())) out.push(ABI_INDEX[w.arch], w.nr & ~X32_SYSCALL_BIT, w.args[0], w.args[1] ?? -1);
  return Int32Array.from(out);
}

function execTuples(): Int32Array {
  const out: number[] = [];
  for (const arch of bpfArches()) {
    const token = archToken(arch);
    if (token === undefined) continue;
    for (const e of EXEC_CALLS) {
      const nr = syscallNumber(token, e.syscall);
      if (nr !== undefined && nr >= 0) out.push(ABI_INDEX[arch], nr & ~X32_SYSCALL_BIT, e.flagsArg);
    }
  }
  return Int32Array.from(out);
}

export interface BpfProgramOptions {
  /** Agent mode: every cgroup not ignored is recorded from its first call. */
  auto?: boolean;
  maxCgroups?: number;
}

export class BpfPrograms {
  private handle: BpfHandle | undefined;

  private constructor(handle: BpfHandle) {
    this.handle = handle;
  }

  /** Loads and attaches; throws UnsupportedError with the kernel's reason. */
  static open(opts: BpfProgramOptions = {}): BpfPrograms {
    if (process.arch !== 'x64') throw new UnsupportedError(`the bpf source supports x86_64 only (this is ${process.arch})`);
    const addon = nativeAddon();
    try {
      return new BpfPrograms(addon.bpfOpen({ auto: opts.auto ?? false, maxCgroups: opts.maxCgroups, watches: watchTuples(), execs: execTuples() }));
    } catch (err) {
      throw new UnsupportedError(`the bpf source cannot run here: ${(err as Error).message}`, [], err);
    }
  }

  private live(): BpfHandle {
    if (!this.handle) throw new Error('the bpf programs are closed');
    return this.handle;
  }

  add(cgroup: bigint): void {
    nativeAddon().bpfCgroup(this.live(), cgroup, 'add');
  }

  ignore(cgroup: bigint, ignored = true): void {
    nativeAddon().bpfCgroup(this.live(), cgroup, ignored ? 'ignore' : 'unignore');
  }

  forget(cgroup: bigint): void {
    nativeAddon().bpfCgroup(this.live(), cgroup, 'forget');
  }

  read(cgroup: bigint): BpfCgroupRead | null {
    return nativeAddon().bpfRead(this.live(), cgroup);
  }

  list(): { cgroups: bigint[]; cgroupsFull: number } {
    return nativeAddon().bpfList(this.live());
  }

  /** Detaches the programs and frees the maps; idempotent. */
  close(): void {
    if (this.handle) nativeAddon().bpfClose(this.handle);
    this.handle = undefined;
  }
}
