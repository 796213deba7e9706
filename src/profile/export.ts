// Installs a profile where the kubelet reads Localhost profiles:
// <kubelet-root>/seccomp/seccomp-recorder/NAME.json, written atomically with
// mode 0644. An existing different file is replaced only when forced.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, RecorderError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { Profile } from './model.js';
import { serializeOci } from './oci.js';
import { DEFAULT_KUBELET_ROOT, KUBELET_SUBDIR, localhostProfileFor, profileFileName } from './pod.js';

export interface ExportOptions {
  profile: Profile;
  name: string;
  kubeletRoot?: string;
  force?: boolean;
}

export interface ExportResult {
  path: string;
  localhostProfile: string;
  status: 'written' | 'unchanged' | 'replaced';
}

/** Thrown when a different profile already has the name. */
export class ProfileExistsError extends RecorderError {
  readonly path: string;
  constructor(path: string) {
    super(`${path} already holds a different profile; pass --force to replace it, or choose another --name`, {
      code: 'ERR_EXISTS',
      exitCode: 1,
    });
    this.path = path;
  }
}

/** Profiles the kubelet's runtime would misread are refused before anything is written. */
function checkExportable(profile: Profile, label: string): void {
  const problems: string[] = [];
  if (profile.archMap !== undefined) problems.push('archMap: a Docker-only field; containerd and CRI-O would ignore it (resolve it first with generate --baseline)');
  profile.rules.forEach((r, i) => {
    if (r.includes || r.excludes)
      problems.push(`syscalls[${i}]: includes/excludes are Docker-only; containerd would drop the condition and apply the rule always (resolve it first with generate --baseline)`);
  });
  if (profile.defaultAction.kind === 'notify' || profile.listenerPath !== undefined)
    problems.push('a recording profile (notify/listenerPath) is not meant for the kubelet; export the generated profile instead');
  if (problems.length) throw new InputError(label, problems);
}

function readExisting(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InputError(path, [`cannot read the existing file: ${(err as Error).message}`], err);
  }
}

export async function exportProfile(opts: ExportOptions, label = 'profile'): Promise<ExportResult> {
  const file = profileFileName(opts.name);
  checkExportable(opts.profile, label);
  const root = opts.kubeletRoot ?? DEFAULT_KUBELET_ROOT;
  const dir = join(root, 'seccomp', KUBELET_SUBDIR);
  const path = join(dir, file);
  const text = serializeOci(opts.profile);
  const localhostProfile = localhostProfileFor(opts.name);
  const existing = readExisting(path);
  if (existing === text) return { path, localhostProfile, status: 'unchanged' };
  if (existing !== undefined && !opts.force) throw new ProfileExistsError(path);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw new InputError(dir, [`cannot create the directory: ${(err as Error).message}`], err);
  }
  await writeFileAtomic(path, text, { mode: 0o644 });
  return { path, localhostProfile, status: existing === undefined ? 'written' : 'replaced' };
}
