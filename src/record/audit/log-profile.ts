// The profile a workload runs under to be recorded through audit: every
// syscall is allowed and logged (SCMP_ACT_LOG), except those listed as
// already known, which are allowed silently. Logging only what is not yet
// known keeps the audit volume down on long recordings: record once, then
// re-run with `allow` set to what the first recording saw.
import type { Profile } from '../../profile/model.js';
import { archesOfKernel } from '../../seccomp/arch.js';

export interface LogProfileOptions {
  /** libseccomp arch names; default: this kernel's native arch and its compat ABIs. */
  arches?: string[];
  /** Syscall names to allow without a record. */
  allow?: string[];
}

export function logRecordingProfile(opts: LogProfileOptions = {}): Profile {
  const allow = [...new Set(opts.allow ?? [])].sort();
  return {
    defaultAction: { kind: 'log' },
    architectures: opts.arches?.length ? [...opts.arches] : archesOfKernel(),
    rules: allow.length ? [{ names: allow, action: { kind: 'allow' }, args: [] }] : [],
    flags: [],
  };
}

/**
 * Whether a record comes from the OCI runtime itself, between installing the
 * filter and exec'ing the workload: runc's init names itself `runc:[2:INIT]`,
 * crun is still `crun` until the exec.
 */
export function isRuntimeComm(comm: string | undefined): boolean {
  return comm !== undefined && (comm.startsWith('runc:[') || comm === 'crun');
}
