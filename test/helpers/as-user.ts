// Running a test's child as another user (nobody by default) through setpriv.
// The child's environment drops NODE_OPTIONS: tap's process tracking puts
// itself there on every spawn, and a node child that is not root then dies at
// exit trying to write into the checkout's .tap/ (a stack trace on stderr,
// sometimes a changed exit status), which is tap's doing, not ours.
import { hasCommand } from './fixtures.js';

export const NOBODY_UID = 65534;

/** The command prefix that runs the rest of an argv as uid:uid with no supplementary groups. */
export function asUser(uid: number = NOBODY_UID): string[] {
  return ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', 'env', '-u', 'NODE_OPTIONS'];
}

/** false where a test may switch to another user, or the reason it must skip. */
export function cannotSwitchUser(): false | string {
  if (process.getuid?.() !== 0) return 'needs root to switch to nobody';
  return hasCommand('setpriv') ? false : 'setpriv is missing (util-linux)';
}
