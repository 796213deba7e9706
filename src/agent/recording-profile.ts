// The profile that routes a container's syscalls to the agent, within what
// each runtime accepts. runc refuses SCMP_ACT_NOTIFY as the default action and
// on `write` (its init writes to its parent after installing the filter), so
// its profile notifies on every name libseccomp knows but `write` (and the Go
// runtime's futex, nanosleep, rt_sigreturn and sched_yield, which runc's init
// may need before the agent has the listener), and lets the rest through
// (ALLOW, or LOG for an audit trail). crun 1.8.1 accepts a
// NOTIFY default (checked on this machine kind), which covers everything.
import { UsageError } from '../errors.js';
import type { Profile } from '../profile/model.js';
import { archesOfKernel, archByName, X32_SYSCALL_BIT } from '../seccomp/arch.js';
import { archToken, syscallName } from '../seccomp/libseccomp.js';
import { encodeMetadata } from '../record/notify/metadata.js';

export const RECORDING_RUNTIMES = ['runc', 'crun'] as const;
export type RecordingRuntime = (typeof RECORDING_RUNTIMES)[number];
export const DEFAULT_RUNTIME_SOCKET = '/run/seccomp-recorder/notify.sock';

/** Syscalls runc will not let a profile notify on. */
export const RUNC_NEVER_NOTIFIED = ['write'] as const;

/**
 * Syscalls runc's init may make between installing the filter and handing the
 * listener over, which the profile therefore must not notify: such a call
 * would wait for an agent that cannot have the listener yet, and the
 * container would hang for good. runc's init is a Go program: the runtime's
 * preemption signal (SIGURG) can land in that window; its handler returns
 * through rt_sigreturn and the goroutine, locked to its thread, is then
 * rescheduled through futex (and the scheduler's sched_yield, nanosleep).
 * Seen here under load: 4 of 18 runc containers hung in a notified
 * rt_sigreturn; with rt_sigreturn alone left out, 3 of 40 in a notified
 * futex; with these four left out, none in 80.
 */
export const RUNC_BEFORE_HANDOVER = ['futex', 'nanosleep', 'rt_sigreturn', 'sched_yield'] as const;

/** Syscall numbers probed per arch; every arch we know stays below this. */
const NR_SCAN_LIMIT = 2048;

export interface RecordingProfileOptions {
  runtime: RecordingRuntime;
  socketPath: string;
  /** libseccomp arch names; default: the kernel's native arch and its compat ABIs. */
  arches?: string[];
  /** What runc's profile does with calls it cannot notify on. */
  uncovered?: 'allow' | 'log';
  /** Image name for containers whose annotations name none. */
  image?: string;
}

export interface RecordingProfile {
  profile: Profile;
  /** Names the profile lets through unobserved. */
  uncovered: string[];
  /** How many names the NOTIFY rule lists (0: NOTIFY is the default). */
  notifiedNames: number;
  /** Highest syscall number libseccomp can name on the native arch: newer calls are not in runc's rule. */
  highestKnown: Record<string, number>;
}

/** Every syscall name libseccomp knows on these arches, and the highest number it names per arch. */
export function knownSyscalls(arches: string[]): { names: string[]; highest: Record<string, number> } {
  const names = new Set<string>();
  const highest: Record<string, number> = {};
  for (const arch of arches) {
    const token = archToken(arch);
    if (token === undefined) continue;
    const base = arch === 'x32' ? X32_SYSCALL_BIT : 0;
    for (let nr = 0; nr < NR_SCAN_LIMIT; nr++) {
      const name = syscallName(token, base + nr);
      if (!name) continue;
      names.add(name);
      highest[arch] = nr;
    }
  }
  return { names: [...names].sort(), highest };
}

export function recordingProfile(opts: RecordingProfileOptions): RecordingProfile {
  const arches = opts.arches?.length ? opts.arches : archesOfKernel();
  for (const a of arches) if (!archByName(a)) throw new UsageError(`unknown architecture "${a}" (use libseccomp names such as x86_64, aarch64, x86)`);
  const base: Profile = {
    defaultAction: { kind: 'notify' },
    architectures: arches,
    rules: [],
    flags: [],
    listenerPath: opts.socketPath,
  };
  const { names, highest } = knownSyscalls(arches);
  if (opts.runtime === 'crun') {
    base.listenerMetadata = encodeMetadata({ runtime: 'crun', uncovered: [], image: opts.image });
    return { profile: base, uncovered: [], notifiedNames: 0, highestKnown: highest };
  }
  const uncovered: string[] = [...RUNC_BEFORE_HANDOVER, ...RUNC_NEVER_NOTIFIED];
  const notified = names.filter((n) => !uncovered.includes(n));
  base.defaultAction = { kind: opts.uncovered === 'log' ? 'log' : 'allow' };
  base.rules = [{ names: notified, action: { kind: 'notify' }, args: [] }];
  base.listenerMetadata = encodeMetadata({ runtime: 'runc', uncovered, image: opts.image });
  return { profile: base, uncovered, notifiedNames: notified.length, highestKnown: highest };
}
