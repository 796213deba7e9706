// Small helpers the benchmark scripts share: option parsing, timing a command, medians.
import { spawnSync } from 'node:child_process';

/** `--name value` from argv, else the default. */
export function argOption(args, name, def) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
}

export function median(list) {
  const s = [...list].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Runs argv to completion and returns its wall time in ms and stdout.
 * A non-zero exit throws, unless `okStatus` accepts it (grep -c exits 1 on no match).
 */
export function timeCommand(argv, { env, okStatus = (s) => s === 0, captureStdout = false } = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), {
    stdio: ['ignore', captureStdout ? 'pipe' : 'ignore', 'pipe'],
    env: env ? { ...process.env, ...env } : process.env,
    maxBuffer: 1 << 20,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!okStatus(r.status)) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { ms, stdout: captureStdout ? String(r.stdout) : '' };
}
