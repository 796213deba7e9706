// Architecture names in the three spellings we meet: libseccomp's (`x86_64`),
// the OCI/Docker profile's (`SCMP_ARCH_X86_64`), and the kernel's audit arch
// number that `seccomp_data.arch` and audit records carry. Pure data.

export interface ArchInfo {
  /** libseccomp's name, also ours in recordings and on the command line. */
  readonly name: string;
  /** As written in OCI/Docker profiles. */
  readonly oci: string;
  /** AUDIT_ARCH_* value; libseccomp's arch token is the same number. */
  readonly token: number;
}

export const X32_SYSCALL_BIT = 0x40000000;
const AUDIT_ARCH_X86_64 = 0xc000003e;

export const ARCHES: readonly ArchInfo[] = [
  { name: 'x86', oci: 'SCMP_ARCH_X86', token: 0x40000003 },
  { name: 'x86_64', oci: 'SCMP_ARCH_X86_64', token: AUDIT_ARCH_X86_64 },
  // libseccomp's pseudo token; the kernel reports x32 as x86_64 with X32_SYSCALL_BIT set.
  { name: 'x32', oci: 'SCMP_ARCH_X32', token: 0x4000003e },
  { name: 'arm', oci: 'SCMP_ARCH_ARM', token: 0x40000028 },
  { name: 'aarch64', oci: 'SCMP_ARCH_AARCH64', token: 0xc00000b7 },
  { name: 'mips', oci: 'SCMP_ARCH_MIPS', token: 0x00000008 },
  { name: 'mips64', oci: 'SCMP_ARCH_MIPS64', token: 0x80000008 },
  { name: 'mips64n32', oci: 'SCMP_ARCH_MIPS64N32', token: 0xa0000008 },
  { name: 'mipsel', oci: 'SCMP_ARCH_MIPSEL', token: 0x40000008 },
  { name: 'mipsel64', oci: 'SCMP_ARCH_MIPSEL64', token: 0xc0000008 },
  { name: 'mipsel64n32', oci: 'SCMP_ARCH_MIPSEL64N32', token: 0xe0000008 },
  { name: 'ppc', oci: 'SCMP_ARCH_PPC', token: 0x00000014 },
  { name: 'ppc64', oci: 'SCMP_ARCH_PPC64', token: 0x80000015 },
  { name: 'ppc64le', oci: 'SCMP_ARCH_PPC64LE', token: 0xc0000015 },
  { name: 's390', oci: 'SCMP_ARCH_S390', token: 0x00000016 },
  { name: 's390x', oci: 'SCMP_ARCH_S390X', token: 0x80000016 },
  { name: 'parisc', oci: 'SCMP_ARCH_PARISC', token: 0x0000000f },
  { name: 'parisc64', oci: 'SCMP_ARCH_PARISC64', token: 0x8000000f },
  { name: 'riscv64', oci: 'SCMP_ARCH_RISCV64', token: 0xc00000f3 },
  { name: 'loongarch64', oci: 'SCMP_ARCH_LOONGARCH64', token: 0xc0000102 },
];

const byName = new Map(ARCHES.map((a) => [a.name, a]));
const byOci = new Map(ARCHES.map((a) => [a.oci, a]));
const byToken = new Map(ARCHES.map((a) => [a.token, a]));

export function archByName(name: string): ArchInfo | undefined {
  return byName.get(name);
}

export function archByOci(oci: string): ArchInfo | undefined {
  return byOci.get(oci);
}

/** Accepts either spelling (`x86_64` or `SCMP_ARCH_X86_64`). */
export function archByAnyName(name: string): ArchInfo | undefined {
  return byName.get(name) ?? byOci.get(name);
}

/**
 * The architecture a notification or audit record belongs to. x32 calls arrive
 * as AUDIT_ARCH_X86_64 with X32_SYSCALL_BIT in the number; libseccomp's x32
 * numbers keep that bit, so the number is returned unchanged.
 */
export function archOfCall(auditArch: number, nr: number): ArchInfo | undefined {
  if (auditArch === AUDIT_ARCH_X86_64 && nr >= 0 && (nr & X32_SYSCALL_BIT) !== 0) return byName.get('x32');
  return byToken.get(auditArch >>> 0);
}

/** The architecture Node runs on, in libseccomp's spelling. */
export function nativeArchName(): string {
  switch (process.arch) {
    case 'x64':
      return 'x86_64';
    case 'ia32':
      return 'x86';
    case 'arm64':
      return 'aarch64';
    case 'arm':
      return 'arm';
    case 'ppc64':
      return 'ppc64le';
    case 's390x':
      return 's390x';
    case 'riscv64':
      return 'riscv64';
    case 'loong64':
      return 'loongarch64';
    default:
      return process.arch;
  }
}

/** The native arch and the compat ABIs its kernel may also run (x86 and x32 on x86_64). */
export function archesOfKernel(native = nativeArchName()): string[] {
  switch (native) {
    case 'x86_64':
      return ['x86_64', 'x86', 'x32'];
    case 'aarch64':
      return ['aarch64', 'arm'];
    case 'ppc64le':
      return ['ppc64le'];
    case 's390x':
      return ['s390x', 's390'];
    default:
      return [native];
  }
}

/** The arch number the kernel reports in `seccomp_data.arch` for calls of this ABI. */
export function auditArchOf(name: string): number | undefined {
  if (name === 'x32') return AUDIT_ARCH_X86_64;
  return byName.get(name)?.token;
}
