// Counts audit records per (arch, syscall number) and names them through
// libseccomp, once per distinct pair (a name lookup per record would cost a
// foreign call each). Compat calls keep their own arch: an x86 record of
// number 20 is x86 `getpid`, never x86_64's number 20.
import type { Observation } from '../../profile/recording.js';
import { sortObservations } from '../../profile/recording.js';
import { archOfCall } from '../../seccomp/arch.js';
import { archToken, syscallName } from '../../seccomp/libseccomp.js';
import type { SeccompAction } from './parse.js';

export interface CallName {
  /** libseccomp arch name; undefined for an arch number we do not know. */
  arch?: string;
  syscall?: string;
}

/** arch number -> syscall number -> name, filled on first use. */
export class SyscallNamer {
  private readonly cache = new Map<number, Map<number, CallName>>();

  name(auditArch: number, nr: number): CallName {
    let perArch = this.cache.get(auditArch);
    if (!perArch) this.cache.set(auditArch, (perArch = new Map()));
    let n = perArch.get(nr);
    if (!n) {
      const arch = archOfCall(auditArch, nr);
      const token = arch ? archToken(arch.name) : undefined;
      n = arch && token !== undefined ? { arch: arch.name, syscall: syscallName(token, nr) } : {};
      perArch.set(nr, n);
    }
    return n;
  }
}

export interface Denial {
  arch: string;
  syscall?: string;
  nr: number;
  action: SeccompAction;
  count: number;
  /** First executables seen making it (at most 3). */
  exes: string[];
}

/** Per (arch, nr) counts; also denials (non-log actions) apart, by action. */
export class SyscallTally {
  private readonly calls = new Map<number, Map<number, number>>();
  private readonly denials = new Map<string, Denial>();
  /** Records whose arch number is unknown to us (kept out of the observations). */
  unknownArch = 0;
  total = 0;

  constructor(private readonly namer = new SyscallNamer()) {}

  /** The arch of the last add() and its table: records come in long runs of one arch. */
  private lastArch = -1;
  private lastPerArch = new Map<number, number>();

  add(auditArch: number, nr: number, count = 1): void {
    this.total += count;
    let perArch = auditArch === this.lastArch ? this.lastPerArch : this.calls.get(auditArch);
    if (!perArch) this.calls.set(auditArch, (perArch = new Map()));
    this.lastArch = auditArch;
    this.lastPerArch = perArch;
    perArch.set(nr, (perArch.get(nr) ?? 0) + count);
  }

  addDenial(auditArch: number, nr: number, action: SeccompAction, exe: string | undefined): void {
    const key = `${auditArch}/${nr}/${action}`;
    let d = this.denials.get(key);
    if (!d) {
      const n = this.namer.name(auditArch, nr);
      d = { arch: n.arch ?? `0x${auditArch.toString(16)}`, nr, action, count: 0, exes: [] };
      if (n.syscall) d.syscall = n.syscall;
      this.denials.set(key, d);
    }
    d.count++;
    if (exe && d.exes.length < 3 && !d.exes.includes(exe)) d.exes.push(exe);
  }

  observations(): Observation[] {
    const out: Observation[] = [];
    this.unknownArch = 0;
    for (const [auditArch, perArch] of this.calls)
      for (const [nr, count] of perArch) {
        const n = this.namer.name(auditArch, nr);
        if (!n.arch) {
          this.unknownArch += count;
          continue;
        }
        const o: Observation = { arch: n.arch, nr, count };
        if (n.syscall) o.syscall = n.syscall;
        out.push(o);
      }
    return sortObservations(out);
  }

  denialList(): Denial[] {
    return [...this.denials.values()].sort(
      (a, b) => a.arch.localeCompare(b.arch) || (a.syscall ?? '').localeCompare(b.syscall ?? '') || a.nr - b.nr || a.action.localeCompare(b.action),
    );
  }
}
