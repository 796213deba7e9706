// Which compat calls the syscalls fixture may make here, probed once per test process, with the skip reason a compat subtest prints.
import type { AbiProbe, CompatAbi } from '../../src/record/abi-probe.js';
import { probeCompatAbis } from '../../src/record/abi-probe.js';

export interface CompatCase {
  abi: CompatAbi;
  /** The fixture's flag that makes this one call. */
  flag: `--compat=${CompatAbi}`;
  /** How a recording names it. */
  call: 'x86/getpid' | 'x32/getpid';
  /** The architecture a profile gains for it, OCI spelling. */
  oci: 'SCMP_ARCH_X86' | 'SCMP_ARCH_X32';
  /** Why a test of this call cannot run on this kernel, or false. */
  skip: string | false;
}

let probe: AbiProbe | undefined;
let probeError: string | undefined;
try {
  probe = await probeCompatAbis();
} catch (err) {
  probeError = `the ABI probe failed, so it is unknown whether this kernel runs compat calls: ${(err as Error).message}`;
}

function skipFor(abi: CompatAbi): string | false {
  if (!probe) return probeError!;
  if (!probe.applicable) return `compat calls exist only on x86_64 (this machine: ${probe.machine})`;
  const fact = probe[abi];
  // An i386 call must really run; an x32 call only has to come back (ENOSYS is the usual
  // answer, and seccomp sees the call before the kernel refuses it).
  if (abi === 'i386') return fact.runs ? false : `this kernel does not run 32-bit (i386) syscalls: ${fact.seen}`;
  return fact.returned ? false : `an x32 call does not return on this kernel: ${fact.seen}`;
}

export const COMPAT: Readonly<Record<CompatAbi, CompatCase>> = {
  i386: { abi: 'i386', flag: '--compat=i386', call: 'x86/getpid', oci: 'SCMP_ARCH_X86', skip: skipFor('i386') },
  x32: { abi: 'x32', flag: '--compat=x32', call: 'x32/getpid', oci: 'SCMP_ARCH_X32', skip: skipFor('x32') },
};

export const COMPAT_CASES: readonly CompatCase[] = [COMPAT.i386, COMPAT.x32];

/** The cases this kernel lets the fixture make. */
export const RUNNABLE_COMPAT: readonly CompatCase[] = COMPAT_CASES.filter((c) => !c.skip);

/** Skip reason for a test that needs every compat call at once, or false. */
export const allCompatSkip: string | false = COMPAT.i386.skip || COMPAT.x32.skip;
