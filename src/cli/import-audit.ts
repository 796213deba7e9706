// `seccomp-recorder import-audit FILE... --image NAME [-o rec.json] [--pid N,...] [--comm NAME] [--exe PATH] [--report FILE]`
import { statSync } from 'node:fs';
import { Command, Option } from 'commander';
import { InputError, UsageError } from '../errors.js';
import { serializeRecording } from '../profile/recording.js';
import type { ImportReport, RecordFilter } from '../record/audit/import.js';
import { importAudit } from '../record/audit/import.js';
import { DEFAULT_MAX_LINE_BYTES } from '../record/audit/lines.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { CommonOptions } from './common.js';
import { formatBytes, formatDuration, ProgressLine } from './progress.js';
import { reportError, withCommonOptions, writeStdout } from './common.js';

interface ImportAuditOptions extends CommonOptions {
  image: string;
  output?: string;
  pid?: string[];
  comm?: string;
  exe?: string;
  report?: string;
  maxLineBytes: string;
  quiet?: boolean;
  legacyParser?: boolean;
  progressAfter: string;
}

function parsePids(values: string[] | undefined): Set<number> | undefined {
  if (!values?.length) return undefined;
  const out = new Set<number>();
  for (const v of values.flatMap((x) => x.split(',')).map((s) => s.trim()).filter(Boolean)) {
    if (!/^\d{1,7}$/.test(v) || Number(v) === 0) throw new UsageError(`--pid: not a process id: "${v}"`);
    out.add(Number(v));
  }
  return out;
}

function parseSize(v: string): number {
  const m = /^(\d+)([km]?)$/i.exec(v.trim());
  if (!m) throw new UsageError(`--max-line-bytes: expected a size such as 65536, 64k or 1m, got "${v}"`);
  const n = Number(m[1]) * (m[2].toLowerCase() === 'k' ? 1024 : m[2].toLowerCase() === 'm' ? 1024 * 1024 : 1);
  if (n < 256 || n > 256 * 1024 * 1024) throw new UsageError('--max-line-bytes must be from 256 bytes to 256m');
  return n;
}

const n = (x: number) => x.toLocaleString('en-US');

/** On a terminal: bytes and files done, records/s, time left; see ProgressLine. */
function importProgress(files: string[], delayMs: number): { onProgress: (file: number, bytes: number, records: number) => void; done: () => void } {
  const sizes = files.map((f) => {
    try {
      return statSync(f).size;
    } catch {
      return 0; // the import itself says why it cannot read it
    }
  });
  const total = sizes.reduce((a, b) => a + b, 0);
  const line = new ProgressLine({ delayMs });
  return {
    onProgress: (file, bytes, records) =>
      line.update(() => {
        const done = sizes.slice(0, file).reduce((a, b) => a + b, 0) + bytes;
        const seconds = line.elapsedMs() / 1000;
        const left = done > 0 ? ((total - done) / done) * seconds * 1000 : Infinity;
        return (
          `import-audit: ${formatBytes(done)} of ${formatBytes(total)} (${total ? Math.floor((100 * done) / total) : 100}%), ` +
          `file ${file + 1} of ${files.length}, ${n(Math.round(records / Math.max(seconds, 0.001)))} records/s, ${formatDuration(left)} left`
        );
      }),
    done: () => line.done(),
  };
}

export function formatImportSummary(report: ImportReport, distinct: number, arches: string[], destination: string): string {
  const lines: string[] = [];
  lines.push(
    `seccomp-recorder: ${n(report.logged)} SCMP_ACT_LOG records, ${distinct} distinct syscalls (${arches.join(', ') || 'no arch'}) ` +
      `from ${report.files.length} file${report.files.length === 1 ? '' : 's'} -> ${destination}`,
  );
  if (report.filteredOut) lines.push(`  ${n(report.filteredOut)} SECCOMP records of other processes left out by --pid/--comm/--exe`);
  const l = report.lines;
  if (l.malformed || report.oversized) {
    const parts: string[] = [];
    if (l.malformed) parts.push(`${n(l.malformed)} unparseable line${l.malformed === 1 ? '' : 's'} (${l.malformedSamples.join('; ')}${l.malformed > l.malformedSamples.length ? '; ...' : ''})`);
    if (report.oversized) parts.push(`${n(report.oversized)} over-long line${report.oversized === 1 ? '' : 's'} (raise --max-line-bytes to read them)`);
    lines.push(`  skipped: ${parts.join(', ')}`);
  }
  if (report.unknownArch) lines.push(`  ${n(report.unknownArch)} records on an architecture this tool cannot name (left out)`);
  if (report.denials.length) {
    lines.push(`  denied: ${n(report.deniedRecords)} records of other seccomp actions (not recorded as allowed):`);
    for (const d of report.denials.slice(0, 10))
      lines.push(`    ${d.arch} ${d.syscall ?? `#${d.nr}`} ${d.action} x${n(d.count)}${d.exes.length ? ` (${d.exes.join(', ')})` : ''}`);
    if (report.denials.length > 10) lines.push(`    ... ${report.denials.length - 10} more (see --report)`);
  }
  const loss = report.loss;
  if (loss.incomplete) {
    lines.push(`  INCOMPLETE: ${loss.lostAtLeast ? `at least ${n(loss.lostAtLeast)} audit records were lost` : 'audit records were lost (count unknown)'}; the recording may miss syscalls:`);
    for (const r of loss.reasons) lines.push(`    - ${r}`);
    lines.push('    see docs/audit.md, "Avoiding loss"');
  }
  return `${lines.join('\n')}\n`;
}

async function runImport(files: string[], opts: ImportAuditOptions): Promise<number> {
  try {
    const image = opts.image.trim();
    if (!image) throw new UsageError('--image must name the image the records belong to');
    const filter: RecordFilter = {};
    const pids = parsePids(opts.pid);
    if (pids) filter.pids = pids;
    if (opts.comm !== undefined) filter.comm = opts.comm;
    if (opts.exe !== undefined) filter.exe = opts.exe;
    const delayMs = Number(opts.progressAfter);
    if (!Number.isFinite(delayMs) || delayMs < 0) throw new UsageError(`--progress-after: expected milliseconds, got "${opts.progressAfter}"`);
    const progress = !opts.quiet && ProgressLine.wanted() ? importProgress(files, delayMs) : undefined;
    let imported;
    try {
      imported = await importAudit({ files, image, filter, maxLineBytes: parseSize(opts.maxLineBytes), legacyParser: opts.legacyParser, onProgress: progress?.onProgress });
    } finally {
      progress?.done();
    }
    const { recording, report } = imported;
    if (opts.report) await writeFileAtomic(opts.report, `${JSON.stringify(report, null, 2)}\n`);
    if (report.logged === 0) {
      const why = [`no type=SECCOMP records with a log action (SCMP_ACT_LOG)${report.filteredOut ? ` for the selected processes (${n(report.filteredOut)} of others)` : ''}`];
      if (report.deniedRecords) why.push(`${n(report.deniedRecords)} records of other actions (denials) were seen`);
      if (report.lines.malformed) why.push(`${n(report.lines.malformed)} lines did not parse (${report.lines.malformedSamples[0]})`);
      throw new InputError(files.join(', '), why);
    }
    const text = serializeRecording(recording);
    if (opts.output) await writeFileAtomic(opts.output, text);
    else await writeStdout(text);
    if (!opts.quiet) process.stderr.write(formatImportSummary(report, recording.observations.length, recording.arches, opts.output ?? 'stdout'));
    return 0;
  } catch (err) {
    return reportError(err, opts.debug === true);
  }
}

export function importAuditCommandSpec(): Command {
  const cmd = new Command('import-audit')
    .summary('make a recording from saved audit logs of SCMP_ACT_LOG profiles (auditd logs, dmesg, /dev/kmsg)')
    .description(
      'Reads type=SECCOMP (1326) records from auditd logs (raw or enriched format, rotated and gzip\'d files\n' +
        'included) or kernel log captures (dmesg, /dev/kmsg, syslog/journal "kernel:" lines), counts the syscalls\n' +
        'of records with a log action, and writes a recording for --image (for `generate`). Records of other\n' +
        'actions (kill, errno, ...) are reported as denials. Lines that do not parse are counted and skipped.\n' +
        'Lost records (serial number gaps, kernel "backlog limit exceeded"/"callbacks suppressed" lines) are\n' +
        'reported, and make the recording\'s stats.lost non-zero.',
    )
    .argument('<files...>', 'audit logs or kernel log captures, plain or gzip\'d')
    .requiredOption('--image <name>', 'the image (or other identity) the recording is for')
    .option('-o, --output <file>', 'write the recording here (atomically) instead of stdout')
    .option('--pid <pids...>', 'only records of these process ids (comma-separated or repeated)')
    .option('--comm <name>', 'only records whose comm= is this (the kernel truncates it to 15 bytes)')
    .option('--exe <path>', 'only records whose exe= is this path')
    .option('--report <file>', 'also write the full import report (JSON): files, skipped lines, denials, loss')
    .addOption(new Option('--max-line-bytes <size>', 'longer lines are counted and skipped').default(String(DEFAULT_MAX_LINE_BYTES)))
    .option('-q, --quiet', 'no summary or progress on stderr')
    // For the benchmark: the string parser on every line (the reader before the native scanner).
    .addOption(new Option('--legacy-parser').hideHelp())
    // On a terminal, progress shows once the import has run this long (tests set 0).
    .addOption(new Option('--progress-after <ms>').default('1000').hideHelp())
    .action(async (files: string[], opts: ImportAuditOptions) => {
      process.exitCode = await runImport(files, opts);
    });
  return withCommonOptions(cmd);
}
