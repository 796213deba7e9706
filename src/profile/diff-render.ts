// Renders a profile diff as text (optionally coloured), markdown (a table for a
// PR comment or a job summary) or JSON (the stable schema in docs/diff.md).
// Every text and markdown rendering ends with the summary line.
import { errnoName } from '../util/errno.js';
import type { SyscallTreatment } from './canonical.js';
import type { Change, ChangeClass, DiffResult, FailOn, SyscallChange } from './diff.js';
import { summaryLine } from './diff.js';
import type { ProfileFormat } from './load.js';
import type { Action, Condition } from './model.js';
import { ACTION_TO_OCI, OPERATOR_TO_OCI } from './names.js';
import { valueSetChanges } from './arg-report.js';

export const DIFF_KIND = 'seccomp-recorder/diff';
/** 2: sides list `equivalents`, syscall changes say `equivalentIn`. */
export const DIFF_VERSION = 2;

export interface DiffSide {
  /** As given (`<stdin>` for `-`). */
  file: string;
  format: ProfileFormat;
  /** SPO metadata.name. */
  name?: string;
  /** Names this profile allows only as added equivalents of recorded calls (equivalents.ts). */
  equivalents?: string[];
}

export interface DiffReport {
  old: DiffSide;
  new: DiffSide;
  result: DiffResult;
  failOn: FailOn;
  /** Whether `failOn` was violated (exit 1). */
  failed: boolean;
  /** result.notes plus what loading said (e.g. Docker-shaped rules resolved). */
  notes: string[];
}

// ---- words ----

export function formatAction(a: Action): string {
  const name = ACTION_TO_OCI[a.kind].replace(/^SCMP_ACT_/, '');
  if (a.kind === 'errno') return `${name}(${errnoName(a.ret ?? 1)})`;
  if (a.kind === 'trace') return `${name}(${a.ret ?? 1})`;
  return name;
}

const number = (v: bigint) => (v < 0x10000n ? v.toString() : `0x${v.toString(16)}`);
const SYMBOL: Record<Condition['op'], string> = { eq: '==', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=', 'masked-eq': '==' };

export function formatCondition(c: Condition): string {
  if (c.op === 'masked-eq') return `arg${c.index} & 0x${c.value.toString(16)} == 0x${c.valueTwo.toString(16)}`;
  return `arg${c.index} ${SYMBOL[c.op]} ${number(c.value)}`;
}

/** `ALLOW`, `ERRNO(EPERM) (default)`, or `ALLOW if arg0 == 0 or arg0 == 8; else ERRNO(EPERM)`. */
export function formatTreatment(t: SyscallTreatment): string {
  if (t.unconditional) return `${formatAction(t.unconditional)}${t.via === 'default' ? ' (default)' : ''}`;
  const groups: { action: Action; whens: string[] }[] = [];
  for (const c of t.clauses) {
    const label = formatAction(c.action);
    let g = groups.find((x) => formatAction(x.action) === label);
    if (!g) groups.push((g = { action: c.action, whens: [] }));
    const conj = c.conditions.map(formatCondition).join(' and ');
    g.whens.push(c.conditions.length > 1 && t.clauses.length > 1 ? `(${conj})` : conj);
  }
  return `${groups.map((g) => `${formatAction(g.action)} if ${g.whens.join(' or ')}`).join('; ')}; else ${formatAction(t.otherwise)}`;
}

const SYSCALL_WHAT: Record<SyscallChange['kind'], string> = {
  allowed: 'now allowed',
  denied: 'no longer allowed',
  conditions: 'conditions changed',
  action: 'action changed',
  errno: 'errno changed',
};

/** One change as a table row: shared by the text and markdown renderers and the JSON `description`. */
interface Row {
  cls: ChangeClass;
  subject: string;
  what: string;
  before?: string;
  after?: string;
  notes: string[];
  dangerous: boolean;
}

/** Whether a syscall change is about a name one side allows only as an added equivalent. */
function equivalentSide(c: Change, report: DiffReport): 'old' | 'new' | undefined {
  if (!('syscall' in c)) return undefined;
  if (report.new.equivalents?.includes(c.syscall)) return 'new';
  if (report.old.equivalents?.includes(c.syscall)) return 'old';
  return undefined;
}

function rowWithNotes(c: Change, report: DiffReport): Row {
  const row = rowOf(c, report.result.arches);
  const side = equivalentSide(c, report);
  if (side) row.notes = [...row.notes, `${side === 'new' ? 'new' : 'old'} profile: an equivalent of a recorded call, not recorded itself`];
  return row;
}

function rowOf(c: Change, arches: readonly string[] = []): Row {
  switch (c.kind) {
    case 'allowed':
    case 'denied':
    case 'conditions':
    case 'action':
    case 'errno': {
      let what = SYSCALL_WHAT[c.kind];
      if (c.kind === 'conditions') what = c.mixed ? 'conditions changed (wider for some arguments, narrower for others)' : c.class === 'widen' ? 'conditions loosened' : 'conditions tightened';
      const notes = c.danger ? [`dangerous: ${c.danger}`] : [];
      // Argument value sets, by name, when conditions pin values (generate --args).
      if (c.kind !== 'action' && c.kind !== 'errno') for (const v of valueSetChanges(c.syscall, c.old, c.new, arches)) notes.push(`values: ${v}`);
      return { cls: c.class, subject: c.syscall, what, before: formatTreatment(c.old), after: formatTreatment(c.new), notes, dangerous: !!c.danger };
    }
    case 'default-action':
    case 'default-errno': {
      const what = c.kind === 'default-action' ? 'default action changed (every syscall no rule names)' : 'default errno changed';
      const notes = c.dangerousUnnamed.length ? [`dangerous syscalls no rule names now get ${formatAction(c.new)}: ${c.dangerousUnnamed.map((d) => d.syscall).join(', ')}`] : [];
      return { cls: c.class, subject: 'defaultAction', what, before: formatAction(c.old), after: formatAction(c.new), notes, dangerous: notes.length > 0 };
    }
    case 'architecture-added':
      return { cls: c.class, subject: 'architectures', what: `${c.architecture} added`, notes: [], dangerous: false };
    case 'architecture-removed':
      return { cls: c.class, subject: 'architectures', what: `${c.architecture} removed`, notes: [], dangerous: false };
    case 'flag-added':
    case 'flag-removed':
      return { cls: c.class, subject: 'flags', what: `${c.flag} ${c.kind === 'flag-added' ? 'added' : 'removed'}`, notes: [c.reason], dangerous: false };
    case 'listener-path':
    case 'listener-metadata':
      return {
        cls: c.class,
        subject: c.kind === 'listener-path' ? 'listenerPath' : 'listenerMetadata',
        what: 'changed',
        before: c.old === undefined ? '(none)' : JSON.stringify(c.old),
        after: c.new === undefined ? '(none)' : JSON.stringify(c.new),
        notes: [],
        dangerous: false,
      };
  }
}

/** Where a syscall change holds, when that is not every compared architecture. */
function archNote(c: Change, report: DiffReport): string {
  if (!('syscall' in c) || !c.arches.length || c.arches.length >= report.result.arches.length) return '';
  return ` (only on ${c.arches.join(', ')})`;
}

function describe(row: Row, where = ''): string {
  return row.before !== undefined ? `${row.what}${where}: ${row.before} → ${row.after}` : `${row.what}${where}`;
}

function sideLabel(s: DiffSide): string {
  return s.format === 'spo' ? `SPO SeccompProfile${s.name ? ` "${s.name}"` : ''}` : 'OCI JSON';
}

// ---- text ----

const SGR: Record<ChangeClass | 'danger' | 'bold', string> = { widen: '31', narrow: '32', neutral: '33', danger: '1;31', bold: '1' };

/** Colour only on a terminal, never with NO_COLOR set (https://no-color.org) or TERM=dumb. */
export function shouldColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

export function renderText(report: DiffReport, opts: { color: boolean }): string {
  const paint = (what: keyof typeof SGR, s: string) => (opts.color ? `\u001b[${SGR[what]}m${s}\u001b[0m` : s);
  const rows = report.result.changes.map((c) => ({ row: rowWithNotes(c, report), arch: archNote(c, report) }));
  const width = Math.min(24, Math.max(0, ...rows.map((r) => r.row.subject.length)));
  let out = `--- ${report.old.file} (${sideLabel(report.old)})\n+++ ${report.new.file} (${sideLabel(report.new)})\n`;
  for (const { row, arch } of rows) {
    out += `${paint(row.cls, row.cls.padEnd(7))}  ${row.subject.padEnd(width)}  ${describe(row, arch)}\n`;
    for (const n of row.notes) out += `${' '.repeat(9 + width + 2)}${row.dangerous ? paint('danger', n) : n}\n`;
  }
  for (const n of report.notes) out += `note: ${n}\n`;
  return `${out}${paint('bold', summaryLine(report.result.summary))}\n`;
}

// ---- markdown ----

const cell = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;

export function renderMarkdown(report: DiffReport): string {
  let out = `### seccomp profile diff\n\n${code(report.old.file)} (${sideLabel(report.old)}) → ${code(report.new.file)} (${sideLabel(report.new)})\n\n`;
  if (report.result.changes.length) {
    out += '| Class | Subject | Change | Before | After | Note |\n|---|---|---|---|---|---|\n';
    for (const c of report.result.changes) {
      const row = rowWithNotes(c, report);
      const cls = row.cls === 'widen' ? '**widen**' : row.cls;
      const notes = row.notes.map((n) => (row.dangerous ? `⚠️ ${n}` : n)).join('; ');
      const cells = [cls, code(row.subject), `${row.what}${archNote(c, report)}`, row.before ? code(row.before) : '', row.after ? code(row.after) : '', notes];
      out += `| ${cells.map(cell).join(' | ')} |\n`;
    }
    out += '\n';
  } else {
    out += 'No change in meaning.\n\n';
  }
  for (const n of report.notes) out += `> note: ${n}\n\n`;
  return `${out}**${summaryLine(report.result.summary)}**\n`;
}

// ---- JSON ----

function actionJson(a: Action): { action: string; errnoRet: number | null } {
  return { action: ACTION_TO_OCI[a.kind], errnoRet: a.kind === 'errno' || a.kind === 'trace' ? (a.ret ?? 1) : null };
}

function treatmentJson(t: SyscallTreatment): Record<string, unknown> {
  return {
    via: t.via,
    action: t.unconditional ? actionJson(t.unconditional) : null,
    rules: t.clauses.map((c) => ({
      ...actionJson(c.action),
      args: c.conditions.map((x) => ({ index: x.index, op: OPERATOR_TO_OCI[x.op], value: x.value, valueTwo: x.valueTwo })),
    })),
    otherwise: actionJson(t.otherwise),
  };
}

function changeJson(c: Change, report: DiffReport): Record<string, unknown> {
  const base = { kind: c.kind, class: c.class, description: describe(rowOf(c, report.result.arches), archNote(c, report)) };
  switch (c.kind) {
    case 'allowed':
    case 'denied':
    case 'conditions':
    case 'action':
    case 'errno':
      return {
        ...base,
        syscall: c.syscall,
        arches: c.arches,
        old: treatmentJson(c.old),
        new: treatmentJson(c.new),
        mixed: c.mixed,
        danger: c.danger ?? null,
        equivalentIn: equivalentSide(c, report) ?? null,
      };
    case 'default-action':
    case 'default-errno':
      return { ...base, old: actionJson(c.old), new: actionJson(c.new), dangerousUnnamed: c.dangerousUnnamed };
    case 'architecture-added':
    case 'architecture-removed':
      return { ...base, architecture: c.architecture };
    case 'flag-added':
    case 'flag-removed':
      return { ...base, flag: c.flag, reason: c.reason };
    case 'listener-path':
    case 'listener-metadata':
      return { ...base, old: c.old ?? null, new: c.new ?? null };
  }
}

function summaryJson(report: DiffReport): Record<string, unknown> {
  const { allowed, denied, conditions, other, widen, narrow, neutral, dangerous } = report.result.summary;
  return { allowed, denied, conditions, other, widen, narrow, neutral, dangerous, line: summaryLine(report.result.summary) };
}

const BIG = '\u0000bigint:';

/** The JSON document (schema in docs/diff.md); 64-bit argument values are exact JSON integers. */
export function renderJson(report: DiffReport): string {
  const side = (s: DiffSide) => ({ file: s.file, format: s.format, name: s.name ?? null, equivalents: s.equivalents ?? [] });
  const doc = {
    kind: DIFF_KIND,
    version: DIFF_VERSION,
    old: side(report.old),
    new: side(report.new),
    failOn: report.failOn,
    failed: report.failed,
    verdict: report.result.summary.verdict,
    summary: summaryJson(report),
    changes: report.result.changes.map((c) => changeJson(c, report)),
    notes: report.notes,
  };
  const text = JSON.stringify(doc, (_k, v: unknown) => (typeof v === 'bigint' ? `${BIG}${v}` : v), 2);
  return `${text.replace(/"\\u0000bigint:(\d+)"/g, '$1')}\n`;
}
