// Comma-separated option values (`--arch x86_64,aarch64`, `--caps ...`), parsed once for every command.
import { UsageError } from '../errors.js';
import { normalizeArch } from '../profile/baseline.js';

export function splitList(v: string | undefined): string[] {
  return (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** `--arch` values in libseccomp spelling; moby/Go and OCI spellings are accepted. */
export function parseArchList(v: string | undefined): string[] {
  return splitList(v).map((a) => {
    const n = normalizeArch(a);
    if (!n) throw new UsageError(`--arch: unknown architecture "${a}" (use libseccomp names such as x86_64, aarch64, x86)`);
    return n;
  });
}
