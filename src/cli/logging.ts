// pino for diagnostics: human text on stderr by default, JSON lines on request.
import pino from 'pino';
import type { Logger } from 'pino';
import pretty from 'pino-pretty';
import { UsageError } from '../errors.js';

export type LogFormat = 'pretty' | 'json';
const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

export function createLogger(level = 'warn', format: string = 'pretty'): Logger {
  if (!LEVELS.has(level)) throw new UsageError(`--log-level must be one of ${[...LEVELS].join(', ')}, got "${level}"`);
  if (format === 'json') return pino({ level, base: undefined }, pino.destination({ fd: 2, sync: true }));
  if (format !== 'pretty') throw new UsageError(`--log-format must be json or pretty, got "${format}"`);
  return pino(
    { level, base: undefined },
    pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY && !process.env.NO_COLOR, ignore: 'time' }),
  );
}
