// The argument-condition levels of generate, merge and recordings profile
// (--args), alone in a leaf module: the CLI's shared options name them, and
// importing them from arg-rules.ts loaded the profile model and yaml into
// every command, import-audit included.
export type ArgLevel = 'off' | 'safe' | 'strict';
export const ARG_LEVELS: readonly ArgLevel[] = ['off', 'safe', 'strict'];
