// Synthetic recordings for tests that need a Recording of given syscall names
// without running anything (one call each, numbered by position).
import type { Recording, Identity } from '../../src/profile/recording.js';

/** A one-arch recording in which each name was seen once. */
export function recordingOfNames(names: string[], identity: Identity = { command: ['app'] }, arch = 'x86_64'): Recording {
  return {
    kind: 'seccomp-recorder/recording',
    version: 1,
    identity,
    arches: [arch],
    startedAt: '2026-01-01T00:00:00Z',
    endedAt: '2026-01-01T00:00:01Z',
    tool: { name: 'seccomp-recorder', version: 'test' },
    observations: names.map((syscall, nr) => ({ arch, syscall, nr, count: 1 })),
    stats: { notifications: names.length, lost: 0 },
  };
}
