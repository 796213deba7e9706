// Types for temp-names.mjs (used from the TypeScript tests).
export const TEST_TEMP_PREFIX: string;
export const TEMP_PREFIXES: string[];
