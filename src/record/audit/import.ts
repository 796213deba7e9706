// Offline import: saved audit trails (auditd logs, rotated and gzip'd; dmesg
// or /dev/kmsg captures; syslog/journal kernel lines) -> one Recording for the
// image named by the user, plus a report of what was skipped, denied or lost.
// Nothing live is left to ask which container a pid was in, so records are
// selected by pid, comm or exe when asked, and otherwise all taken.
import type { Recording } from '../../profile/recording.js';
import { RECORDING_KIND, RECORDING_VERSION } from '../../profile/recording.js';
import { TOOL } from '../../version.js';
import type { FileReadResult } from './lines.js';
import type { ReadProgress } from './lines.js';
import { DEFAULT_MAX_LINE_BYTES, readFileInto, readFileLines } from './lines.js';
import type { LossSummary } from './loss.js';
import { LossTracker } from './loss.js';
import type { SeccompRecord } from './parse.js';
import type { StreamStats } from './stream.js';
import type { ScanTally } from './scan.js';
import { nativeAuditScan, ScanningSplitter } from './scan.js';
import { AuditLineHandler } from './stream.js';
import type { Denial } from './tally.js';
import { SyscallTally } from './tally.js';

export interface RecordFilter {
  pids?: Set<number>;
  comm?: string;
  exe?: string;
}

export interface ImportOptions {
  files: string[];
  image: string;
  filter?: RecordFilter;
  maxLineBytes?: number;
  /** Every line decoded to a string and parsed as one (the reader before the native scanner; kept for the benchmark, and used without the native build). */
  legacyParser?: boolean;
  /** Told after each chunk: the index of the file being read, its bytes read so far, SECCOMP records so far. */
  onProgress?: (fileIndex: number, fileBytesRead: number, records: number) => void;
}

export interface ImportReport {
  files: ({ path: string } & FileReadResult)[];
  lines: StreamStats;
  /** SECCOMP records with a log action that passed the filter (the recording's count). */
  logged: number;
  /** SECCOMP records the filter left out. */
  filteredOut: number;
  /** Records of other actions (kill, errno, trap, ...): denials, not recorded. */
  denials: Denial[];
  deniedRecords: number;
  /** Records on an arch number we cannot name. */
  unknownArch: number;
  oversized: number;
  loss: LossSummary;
}

export interface ImportResult {
  recording: Recording;
  report: ImportReport;
}

export function matches(r: SeccompRecord, f: RecordFilter | undefined): boolean {
  if (!f) return true;
  if (f.pids && !f.pids.has(r.pid)) return false;
  if (f.comm !== undefined && r.comm !== f.comm) return false;
  if (f.exe !== undefined && r.exe !== f.exe) return false;
  return true;
}

export async function importAudit(opts: ImportOptions): Promise<ImportResult> {
  const loss = new LossTracker();
  const tally = new SyscallTally();
  let filteredOut = 0;
  let deniedRecords = 0;
  let first = Infinity;
  let last = -Infinity;
  const handler = new AuditLineHandler(loss, (r) => {
    if (!matches(r, opts.filter)) {
      filteredOut++;
      return;
    }
    if (r.action !== 'log') {
      deniedRecords++;
      tally.addDenial(r.auditArch, r.nr, r.action, r.exe);
      return;
    }
    tally.add(r.auditArch, r.nr);
    if (r.time < first) first = r.time;
    if (r.time > last) last = r.time;
  });
  const files: ImportReport['files'] = [];
  const maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const oversized = () => handler.lineNo++;
  const scan = opts.legacyParser ? undefined : nativeAuditScan();
  // Without a filter every log record counts alike, so the scanner may count them in C (scan.ts).
  const noFilter = !opts.filter || (!opts.filter.pids && opts.filter.comm === undefined && opts.filter.exe === undefined);
  const bulk: ScanTally | undefined = noFilter
    ? {
        loss,
        add: (auditArch, nr, count) => tally.add(auditArch, nr, count),
        span: (from, to) => {
          if (from < first) first = from;
          if (to > last) last = to;
        },
      }
    : undefined;
  for (const [index, path] of opts.files.entries()) {
    handler.source = path;
    handler.lineNo = 0;
    const progress: ReadProgress | undefined = opts.onProgress && ((n) => opts.onProgress!(index, n, handler.stats.seccomp));
    const res = scan
      ? await readFileInto(path, new ScanningSplitter(scan, handler, maxLineBytes, oversized, bulk), progress)
      : await readFileLines(path, (line) => handler.line(line), maxLineBytes, oversized, progress);
    if (res.damaged) loss.noteDamaged(`${path}: ${res.damaged}`);
    // Files may come in any order (audit.log, audit.log.1, ...): serial continuity is checked within each.
    loss.endSegment();
    files.push({ path, ...res });
  }
  loss.finish();
  const observations = tally.observations();
  const summary = loss.summary();
  const recording: Recording = {
    kind: RECORDING_KIND,
    version: RECORDING_VERSION,
    identity: { image: opts.image },
    arches: [...new Set(observations.map((o) => o.arch))].sort(),
    startedAt: new Date(Number.isFinite(first) ? first : 0).toISOString(),
    endedAt: new Date(Number.isFinite(last) ? last : 0).toISOString(),
    tool: { ...TOOL },
    observations,
    // A loss with no count still marks the recording: lost is never 0 when records are known missing.
    stats: { notifications: tally.total, lost: summary.incomplete ? Math.max(1, summary.lostAtLeast) : 0 },
  };
  return {
    recording,
    report: {
      files,
      lines: handler.stats,
      logged: tally.total,
      filteredOut,
      denials: tally.denialList(),
      deniedRecords,
      unknownArch: tally.unknownArch,
      oversized: files.reduce((n, f) => n + f.oversized, 0),
      loss: summary,
    },
  };
}
