// The one-screen summary `record` prints on stderr.
import type { Recording } from '../profile/recording.js';

export interface SummaryInput {
  recording: Recording;
  durationMs: number;
  destination: string;
  allowed: number;
  unnamed: number;
  exitCode: number;
  stoppedEarly: boolean;
  unknownArchCalls: number;
  /** Incremental recording: the known profiles and the names they lacked. */
  known?: { files: string[]; fresh: string[] };
  /** Equivalents of recorded calls the profile allows too (equivalents.ts). */
  equivalents?: { syscall: string; for: string[] }[];
}

const RARE_SHOWN = 12;

/** `added N equivalents of recorded calls: pwritev (for pwrite64), ...`: shared by record and generate. */
export function formatEquivalents(list: { syscall: string; for: string[] }[]): string {
  return `added ${list.length} equivalent${list.length === 1 ? '' : 's'} of recorded calls (not recorded): ${list.map((e) => `${e.syscall} (for ${e.for.join(', ')})`).join(', ')}`;
}

export function formatSummary(s: SummaryInput): string {
  const rec = s.recording;
  const total = rec.observations.reduce((n, o) => n + o.count, 0);
  const names = new Set(rec.observations.map((o) => `${o.arch}/${o.syscall ?? `#${o.nr}`}`));
  const lines: string[] = [];
  const cmd = (rec.identity.command ?? []).join(' ');
  lines.push(
    `seccomp-recorder: ${names.size} distinct syscalls, ${total.toLocaleString('en-US')} calls, ` +
      `arch ${rec.arches.join(', ') || 'none'}, ${(s.durationMs / 1000).toFixed(2)} s, exit ${s.exitCode}` +
      `${rec.source ? `, source ${rec.source}` : ''}: ${cmd}`,
  );
  const rare = rec.observations.filter((o) => o.count === 1);
  if (rare.length) {
    const shown = rare.slice(0, RARE_SHOWN).map((o) => `${o.syscall ?? `#${o.nr}`}${rec.arches.length > 1 ? `(${o.arch})` : ''}`);
    const more = rare.length > RARE_SHOWN ? `, +${rare.length - RARE_SHOWN} more` : '';
    lines.push(`  called once (a shorter run could miss them): ${shown.join(', ')}${more}`);
  }
  const watched = rec.observations.filter((o) => o.args);
  if (watched.length) {
    lines.push(
      `  argument values kept for: ${watched.map((o) => `${o.syscall}(${o.args!.values.length}${o.args!.overflowed ? '+' : ''})`).join(', ')}`,
    );
  }
  if (s.unnamed) lines.push(`  warning: ${s.unnamed} syscall number(s) libseccomp cannot name were left out of the profile (kept in the recording)`);
  if (s.unknownArchCalls) lines.push(`  warning: ${s.unknownArchCalls} call(s) on an unknown architecture were not recorded`);
  if (rec.stats.lost) lines.push(`  warning: ${rec.stats.lost} call(s) could not be counted (out of memory)`);
  if (s.stoppedEarly) lines.push('  note: stopped before every descendant exited; later calls of survivors are not in the profile');
  if (s.known) {
    const against = s.known.files.join(', ');
    lines.push(
      s.known.fresh.length
        ? `  ${s.known.fresh.length} new syscall${s.known.fresh.length > 1 ? 's' : ''} beyond ${against}: ${s.known.fresh.join(', ')}`
        : `  nothing new beyond ${against} (only calls outside it were recorded)`,
    );
    lines.push(`  profile: ${against} plus what was new, ${s.allowed} syscalls allowed → ${s.destination}`);
  } else {
    lines.push(`  profile: ${s.allowed} syscalls allowed, everything else EPERM → ${s.destination}`);
  }
  if (s.equivalents?.length) lines.push(`  ${formatEquivalents(s.equivalents)} (--exact leaves them out)`);
  return `${lines.join('\n')}\n`;
}
