// `seccomp-recorder validate PROFILE [--arch LIST] [--bpf FILE] [--pfc FILE|-] [--against-baseline FILE] [--json]`
// Exit 0 valid, 1 invalid (or warnings with --strict), 2 usage or I/O error.
import { Command } from 'commander';
import { UsageError } from '../errors.js';
import { loadBaseline } from '../profile/baseline.js';
import type { Finding } from '../profile/lint.js';
import { readInput } from '../profile/load.js';
import type { ValidationReport } from '../profile/validate.js';
import { validateProfileText } from '../profile/validate.js';
import { archToken, libseccompVersion } from '../seccomp/libseccomp.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { CommonOptions } from './common.js';
import { parseArchList } from './lists.js';
import { reportError, withCommonOptions, writeStdout } from './common.js';

interface ValidateCliOptions extends CommonOptions {
  arch?: string;
  bpf?: string;
  pfc?: string;
  againstBaseline?: string;
  json?: boolean;
  strict?: boolean;
}

export function validateCommandSpec(): Command {
  const cmd = new Command('validate')
    .summary('check a profile through libseccomp without loading it')
    .description(
      'Parses an OCI/Docker JSON or SPO SeccompProfile YAML profile, resolves every syscall name on every\n' +
        'architecture, compiles it with libseccomp exactly as runc would and reports what runtimes would\n' +
        'silently drop or refuse. Never loads a filter.\n' +
        'Exit status: 0 valid, 1 invalid (or any warning with --strict), 2 usage or I/O error.',
    )
    .argument('<profile>', 'the profile file, or - for stdin')
    .option('--arch <list>', "architectures to check and compile for, comma-separated (default: this machine's native arch plus the profile's, as runc)")
    .option('--bpf <file>', 'write the compiled BPF program (struct sock_filter[]) here; only when valid')
    .option('--pfc <file>', "write libseccomp's pseudo filter code here (- for stdout); only when valid")
    .option('--against-baseline <file>', 'warn for everything the profile allows that this runtime default would deny')
    .option('--json', 'print the report as JSON on stdout')
    .option('--strict', 'treat warnings as errors (exit 1)')
    .action(async (file: string, opts: ValidateCliOptions) => {
      process.exitCode = await runValidate(file, opts);
    });
  return withCommonOptions(cmd);
}

function parseArches(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const list = parseArchList(v);
  if (!list.length) throw new UsageError('--arch: expected a comma-separated list such as x86_64,aarch64');
  for (const n of list) {
    if (archToken(n) === undefined) throw new UsageError(`--arch: libseccomp ${libseccompVersion()} does not know the architecture ${n}`);
  }
  return [...new Set(list)];
}

function findingLine(f: Finding): string {
  return `  ${f.severity}: ${f.path ? `${f.path}: ` : ''}${f.message}\n`;
}

const FORMAT_LABEL = { oci: 'OCI JSON', spo: 'SPO SeccompProfile' } as const;

/** The human report. */
export function formatReport(r: ValidationReport, strict: boolean): string {
  const ok = r.valid && !(strict && r.warnings.length);
  const counts = [`${r.errors.length} error${r.errors.length === 1 ? '' : 's'}`, `${r.warnings.length} warning${r.warnings.length === 1 ? '' : 's'}`];
  let out = `${r.file}: ${ok ? 'valid' : 'invalid'}${r.format ? ` (${FORMAT_LABEL[r.format]})` : ''}, ${counts.join(', ')}\n`;
  if (r.names) {
    const per = r.names.perArch.map((p) => `${p.arch} ${p.resolved}`).join(', ');
    out += `  names: ${r.names.total} distinct; resolved on ${per}\n`;
  }
  if (r.bpf) {
    const per = r.bpf.perArch.map((p) => `${p.arch} ${p.instructions}`).join(', ');
    out += `  BPF: ${r.bpf.instructions} instructions (${r.bpf.bytes} bytes) for ${r.architectures.join(', ')}; each arch alone: ${per}\n`;
  }
  for (const f of r.errors) out += findingLine(f);
  for (const f of r.warnings) out += findingLine(f);
  return out;
}

async function runValidate(file: string, opts: ValidateCliOptions): Promise<number> {
  try {
    const arches = parseArches(opts.arch);
    if (opts.json && opts.pfc === '-') throw new UsageError('--pfc - and --json both want stdout; write the PFC to a file');
    const input = readInput(file);
    const baseline = opts.againstBaseline ? loadBaseline(opts.againstBaseline) : undefined;
    const { report, bpf, pfc } = validateProfileText(input.text, input.label, { arches, baseline, pfc: opts.pfc !== undefined });
    const ok = report.valid && !(opts.strict && report.warnings.length);
    if (ok && bpf && opts.bpf) await writeFileAtomic(opts.bpf, bpf);
    if (ok && pfc !== undefined && opts.pfc && opts.pfc !== '-') await writeFileAtomic(opts.pfc, pfc);
    if (opts.json) {
      await writeStdout(`${JSON.stringify({ ...report, valid: ok }, null, 2)}\n`);
    } else {
      const text = formatReport(report, opts.strict === true);
      // With the PFC on stdout, the report moves to stderr so the two never mix.
      if (opts.pfc === '-') process.stderr.write(text);
      else await writeStdout(text);
    }
    if (ok && pfc !== undefined && opts.pfc === '-') await writeStdout(pfc);
    if (!ok && (opts.bpf || opts.pfc)) process.stderr.write(`seccomp-recorder: ${[opts.bpf, opts.pfc].filter(Boolean).join(' and ')} not written: the profile is invalid\n`);
    return ok ? 0 : 1;
  } catch (err) {
    return reportError(err, opts.debug === true);
  }
}
