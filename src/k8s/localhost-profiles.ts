// The checks only this tool can make: is a container's Localhost seccomp
// profile installed where the kubelet looks (<kubelet-root>/seccomp/PATH), is
// it a profile the runtime can read, and does it allow every syscall recorded
// for the container's image? Profiles are read once per path.
import { isAbsolute, join } from 'node:path';
import { existsSync } from 'node:fs';
import { RecorderError } from '../errors.js';
import type { LoadedProfile } from '../profile/load.js';
import { loadProfile } from '../profile/load.js';
import { checkSuperset } from '../profile/merge.js';
import type { Recording } from '../profile/recording.js';
import type { RawFinding } from './lint-rules.js';
import type { EffectiveSecurity } from './security-context.js';
import type { ContainerRef } from './workloads.js';

export interface ProfileContext {
  /** The kubelet's root directory: Localhost profiles are read from <root>/seccomp/. Without it, nothing is looked up. */
  kubeletRoot?: string;
  /** What was recorded for an image as the manifest writes it, when known. */
  recordingFor?: (image: string) => Recording | undefined;
}

/** Why a localhostProfile value cannot work, or undefined. The kubelet refuses absolute paths and "..". */
export function localhostPathProblem(path: string | undefined): string | undefined {
  if (path === undefined || path === '') return 'type Localhost without localhostProfile';
  if (isAbsolute(path)) return `localhostProfile ${JSON.stringify(path)} is absolute (it is relative to <kubelet-root>/seccomp)`;
  if (path.split('/').includes('..')) return `localhostProfile ${JSON.stringify(path)} contains ".."`;
  return undefined;
}

export class ProfileChecker {
  private readonly loaded = new Map<string, LoadedProfile | RecorderError | 'missing'>();

  constructor(private readonly ctx: ProfileContext) {}

  private load(file: string): LoadedProfile | RecorderError | 'missing' {
    let got = this.loaded.get(file);
    if (got === undefined) {
      if (!existsSync(file)) got = 'missing';
      else {
        try {
          got = loadProfile(file);
        } catch (err) {
          if (!(err instanceof RecorderError)) throw err;
          got = err;
        }
      }
      this.loaded.set(file, got);
    }
    return got;
  }

  check(c: ContainerRef, s: EffectiveSecurity): RawFinding[] {
    const seccomp = s.seccomp;
    if (seccomp?.value.type !== 'Localhost') return [];
    const node = seccomp.node;
    const lp = seccomp.value.localhostProfile;
    const problem = localhostPathProblem(lp);
    if (problem) return [{ ruleId: 'localhost-profile-invalid', message: problem, node }];
    if (!this.ctx.kubeletRoot) return [];
    const file = join(this.ctx.kubeletRoot, 'seccomp', lp!);
    const got = this.load(file);
    if (got === 'missing') return [{ ruleId: 'localhost-profile-missing', message: `${lp} is not installed (no ${file})`, node }];
    if (got instanceof RecorderError) return [{ ruleId: 'localhost-profile-invalid', message: `${lp}: ${got.message}`, node }];
    const recording = c.image ? this.ctx.recordingFor?.(c.image) : undefined;
    if (!recording) return [];
    const verdict = checkSuperset(got.profile, { file: c.image!, kind: 'recording', recording });
    if (verdict.ok) return [];
    const gaps = [
      ...verdict.missingArches.map((a) => `architecture ${a}`),
      ...verdict.missing.map((m) => (m.why === 'not allowed' ? m.syscall : `${m.syscall} (${m.why})`)),
    ];
    return [{ ruleId: 'localhost-profile-uncovered', message: `${lp} denies what was recorded for ${c.image}: ${gaps.join(', ')}`, node }];
  }
}
