// The minimal profile of a recording: ERRNO(EPERM) by default, one ALLOW rule
// with every recorded name, architectures as recorded. Numbers libseccomp
// could not name cannot be written in a profile; they are returned apart.
import type { Profile } from './model.js';
import { allowListProfile } from './model.js';
import type { Observation, Recording } from './recording.js';

export interface MinimalResult {
  profile: Profile;
  unnamed: Observation[];
}

export function minimalProfile(rec: Recording): MinimalResult {
  const names = rec.observations.filter((o) => o.syscall).map((o) => o.syscall!);
  const unnamed = rec.observations.filter((o) => !o.syscall);
  return { profile: allowListProfile(rec.arches, names), unnamed };
}
