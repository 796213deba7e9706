// Options every command shares, and the one place errors become exit codes.
import type { Command } from 'commander';
import { Option } from 'commander';
import type { Logger } from 'pino';
import { RecorderError } from '../errors.js';
import { ARG_LEVELS } from '../profile/arg-levels.js';
import { createLogger } from './logging.js';

export interface CommonOptions {
  logLevel: string;
  logFormat: string;
  debug?: boolean;
}

export function withCommonOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--log-level <level>', 'diagnostics level').default('warn').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']))
    .addOption(new Option('--log-format <format>', 'diagnostics format on stderr').default('pretty').choices(['pretty', 'json']))
    .option('--debug', 'show stack traces of internal errors');
}

export function loggerFor(opts: CommonOptions): Logger {
  return createLogger(opts.debug && opts.logLevel === 'warn' ? 'debug' : opts.logLevel, opts.logFormat);
}

/** Prints `error: <message>` and returns the exit code for it. */
export function reportError(err: unknown, debug: boolean): number {
  if (err instanceof RecorderError) {
    process.stderr.write(`error: ${err.message}\n`);
    if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
    return err.exitCode;
  }
  const e = err as Error;
  process.stderr.write(`error: internal error: ${e?.message ?? String(err)}\n`);
  if (debug && e?.stack) process.stderr.write(`${e.stack}\n`);
  else process.stderr.write('(run again with --debug for details)\n');
  return 70;
}

/** Writes text to stdout and resolves once it is flushed. */
export function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
}

/** `--args <level>` as generate, merge and `recordings profile` take it (default safe). */
export function argsOption(help = 'argument conditions from recorded values: safe (socket family/type, namespace flags, personality, prctl), strict (also ioctl, fcntl, setsockopt), off (names only)'): Option {
  return new Option('--args <level>', help).choices([...ARG_LEVELS]).default('safe');
}
