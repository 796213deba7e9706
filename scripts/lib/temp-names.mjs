// The names this project gives its entries in os.tmpdir(): the tests' own
// (test/helpers/tmp.ts) and the CLI's (src/record/known.ts, src/run/enforce.ts,
// src/seccomp/libseccomp.ts). scripts/test.mjs counts these before and after a run.
export const TEST_TEMP_PREFIX = 'sr-';
export const TEMP_PREFIXES = [TEST_TEMP_PREFIX, 'seccomp-recorder-'];
