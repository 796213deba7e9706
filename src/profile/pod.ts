// Where a profile lives for the kubelet and how a Pod points at it: the
// `localhostProfile` value (relative to <kubelet-root>/seccomp) and the
// securityContext snippet that uses it.
import YAML from 'yaml';
import { UsageError } from '../errors.js';

/** Our folder under <kubelet-root>/seccomp, so our files never mix with others'. */
export const KUBELET_SUBDIR = 'seccomp-recorder';
export const DEFAULT_KUBELET_ROOT = '/var/lib/kubelet';

const SAFE_NAME = /^[A-Za-z0-9._-]+$/;

/**
 * Checks a profile name for `export`/`--format pod`. The kubelet refuses
 * absolute or `..` paths, and a `/` would leave our folder; anything beyond
 * letters, digits, `.`, `_` and `-` is refused too, so the name is a plain file name.
 */
export function checkProfileName(name: string): string {
  if (!name) throw new UsageError('--name must not be empty');
  if (name.startsWith('/')) throw new UsageError(`--name must be a plain file name, not an absolute path: ${JSON.stringify(name)}`);
  if (name.includes('/')) throw new UsageError(`--name must not contain "/": ${JSON.stringify(name)}`);
  if (name === '.' || name.includes('..')) throw new UsageError(`--name must not contain "..": ${JSON.stringify(name)}`);
  if (name.startsWith('.')) throw new UsageError(`--name must not start with ".": ${JSON.stringify(name)}`);
  if (!SAFE_NAME.test(name)) throw new UsageError(`--name may hold only letters, digits, ".", "_" and "-": ${JSON.stringify(name)}`);
  return name;
}

/** `my-app` -> `my-app.json` (a name already ending in .json is kept). */
export function profileFileName(name: string): string {
  checkProfileName(name);
  return name.endsWith('.json') ? name : `${name}.json`;
}

/** The exact `localhostProfile` value for a profile exported under `name`. */
export function localhostProfileFor(name: string): string {
  return `${KUBELET_SUBDIR}/${profileFileName(name)}`;
}

/** A Pod or container `securityContext` snippet using the profile (deterministic YAML). */
export function podSnippet(name: string): string {
  const localhostProfile = localhostProfileFor(name);
  const doc = { securityContext: { seccompProfile: { type: 'Localhost', localhostProfile } } };
  return (
    `# Put under spec (whole Pod) or under one container. The file must exist on every node:\n` +
    `#   seccomp-recorder export PROFILE --name ${name}\n` +
    YAML.stringify(doc)
  );
}
