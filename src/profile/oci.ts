// OCI / Docker seccomp JSON <-> the Profile model. Parsing collects every
// problem with its JSON path; serialising is deterministic (stable key order,
// sorted names), so the same model always gives the same bytes.
import { archByAnyName, archByName } from '../seccomp/arch.js';
import { describe, isRecord, parseJsonDocument, Problems } from './json-input.js';
import type { Action, Condition, Profile, Rule, RuleFilter } from './model.js';
import { ACTION_TO_OCI, actionFromOci, KNOWN_FLAGS, OPERATOR_TO_OCI, operatorFromOci } from './names.js';

const TOP_LEVEL_KEYS = new Set([
  'defaultAction',
  'defaultErrnoRet',
  'architectures',
  'archMap',
  'flags',
  'listenerPath',
  'listenerMetadata',
  'syscalls',
]);
const RULE_KEYS = new Set(['names', 'name', 'action', 'errnoRet', 'args', 'comment', 'includes', 'excludes']);
const ARG_KEYS = new Set(['index', 'value', 'valueTwo', 'op']);

function parseInteger(v: unknown, path: string, problems: Problems, min: number, max: number): number | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    problems.add(path, `expected an integer from ${min} to ${max}, got ${describe(v)}`);
    return undefined;
  }
  return v;
}

function parseU64(v: unknown, path: string, problems: Problems): bigint | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string' && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) {
    const b = BigInt(v);
    if (b < 2n ** 64n) return b;
  }
  problems.add(path, `expected an unsigned 64-bit integer, got ${describe(v)}`);
  return undefined;
}

export function parseAction(v: unknown, path: string, problems: Problems): Action | undefined {
  if (typeof v !== 'string') {
    problems.add(path, `expected an action name such as "SCMP_ACT_ALLOW", got ${describe(v)}`);
    return undefined;
  }
  const kind = actionFromOci(v);
  if (!kind) {
    problems.add(path, `unknown action ${JSON.stringify(v)}`);
    return undefined;
  }
  return { kind };
}

function parseCondition(v: unknown, path: string, problems: Problems): Condition | undefined {
  if (!isRecord(v)) {
    problems.add(path, `expected an object, got ${describe(v)}`);
    return undefined;
  }
  for (const k of Object.keys(v)) if (!ARG_KEYS.has(k)) problems.add(`${path}.${k}`, 'unknown field');
  const index = parseInteger(v.index, `${path}.index`, problems, 0, 5);
  const value = parseU64(v.value ?? 0, `${path}.value`, problems);
  const valueTwo = parseU64(v.valueTwo ?? 0, `${path}.valueTwo`, problems);
  let op;
  if (typeof v.op !== 'string' || !(op = operatorFromOci(v.op))) {
    problems.add(`${path}.op`, `unknown operator ${describe(v.op)}`);
  }
  if (index === undefined || value === undefined || valueTwo === undefined || !op) return undefined;
  return { index, op, value, valueTwo };
}

function parseStringList(v: unknown, path: string, problems: Problems): string[] | undefined {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    problems.add(path, `expected a list of strings, got ${describe(v)}`);
    return undefined;
  }
  return v as string[];
}

function parseFilter(v: unknown, path: string, problems: Problems): RuleFilter | undefined {
  if (v === undefined) return undefined;
  if (!isRecord(v)) {
    problems.add(path, `expected an object, got ${describe(v)}`);
    return undefined;
  }
  const f: RuleFilter = {};
  for (const [k, val] of Object.entries(v)) {
    if (k === 'caps' || k === 'arches') {
      const list = parseStringList(val, `${path}.${k}`, problems);
      if (list) f[k] = list;
    } else if (k === 'minKernel') {
      if (typeof val !== 'string' || !/^\d+\.\d+/.test(val)) problems.add(`${path}.minKernel`, `expected a kernel version such as "5.8", got ${describe(val)}`);
      else f.minKernel = val;
    } else {
      problems.add(`${path}.${k}`, 'unknown field');
    }
  }
  return f;
}

function parseRule(v: unknown, path: string, problems: Problems): Rule | undefined {
  if (!isRecord(v)) {
    problems.add(path, `expected an object, got ${describe(v)}`);
    return undefined;
  }
  for (const k of Object.keys(v)) if (!RULE_KEYS.has(k)) problems.add(`${path}.${k}`, 'unknown field');
  let names: string[] | undefined;
  if (v.names !== undefined) names = parseStringList(v.names, `${path}.names`, problems);
  else if (typeof v.name === 'string') names = [v.name];
  else problems.add(`${path}.names`, 'missing');
  if (names) {
    names.forEach((n, i) => {
      if (!/^[a-z0-9_]+$/.test(n)) problems.add(`${path}.names[${i}]`, `not a syscall name: ${JSON.stringify(n)}`);
    });
  }
  const action = parseAction(v.action, `${path}.action`, problems);
  if (action && v.errnoRet !== undefined) {
    const ret = parseInteger(v.errnoRet, `${path}.errnoRet`, problems, 0, 0xffff);
    if (ret !== undefined) action.ret = ret;
  }
  const args: Condition[] = [];
  if (v.args !== undefined && v.args !== null) {
    if (!Array.isArray(v.args)) problems.add(`${path}.args`, `expected a list, got ${describe(v.args)}`);
    else
      v.args.forEach((a, i) => {
        const c = parseCondition(a, `${path}.args[${i}]`, problems);
        if (c) args.push(c);
      });
  }
  if (v.comment !== undefined && typeof v.comment !== 'string') problems.add(`${path}.comment`, 'expected a string');
  const includes = parseFilter(v.includes, `${path}.includes`, problems);
  const excludes = parseFilter(v.excludes, `${path}.excludes`, problems);
  if (!names || !action) return undefined;
  const rule: Rule = { names, action, args };
  if (typeof v.comment === 'string' && v.comment) rule.comment = v.comment;
  if (includes && Object.keys(includes).length) rule.includes = includes;
  if (excludes && Object.keys(excludes).length) rule.excludes = excludes;
  return rule;
}

/** Parses an OCI/Docker profile object. Throws InputError listing every problem. */
export function profileFromOciObject(doc: unknown, file: string, prefix = ''): Profile {
  const problems = new Problems();
  const p = (k: string) => (prefix ? `${prefix}.${k}` : k);
  if (!isRecord(doc)) {
    problems.add(prefix, `expected a seccomp profile object, got ${describe(doc)}`);
    problems.throwIfAny(file);
  }
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) if (!TOP_LEVEL_KEYS.has(k)) problems.add(p(k), 'unknown field');
  const defaultAction = parseAction(d.defaultAction, p('defaultAction'), problems);
  let defaultErrnoRet: number | undefined;
  if (d.defaultErrnoRet !== undefined) defaultErrnoRet = parseInteger(d.defaultErrnoRet, p('defaultErrnoRet'), problems, 0, 0xffff);

  const architectures: string[] = [];
  const addArch = (name: unknown, path: string) => {
    const a = typeof name === 'string' ? archByAnyName(name) : undefined;
    if (!a) problems.add(path, `unknown architecture ${describe(name)}`);
    else if (!architectures.includes(a.name)) architectures.push(a.name);
  };
  if (d.architectures !== undefined && d.architectures !== null) {
    if (!Array.isArray(d.architectures)) problems.add(p('architectures'), 'expected a list');
    else d.architectures.forEach((a, i) => addArch(a, `${p('architectures')}[${i}]`));
  }
  // Docker's archMap lists each main arch with its sub-arches; all of them count.
  let archMap: Profile['archMap'];
  if (d.archMap !== undefined && d.archMap !== null) {
    if (!Array.isArray(d.archMap)) problems.add(p('archMap'), 'expected a list');
    else {
      archMap = [];
      d.archMap.forEach((m, i) => {
        const path = `${p('archMap')}[${i}]`;
        if (!isRecord(m)) return problems.add(path, 'expected an object');
        const main = typeof m.architecture === 'string' ? archByAnyName(m.architecture) : undefined;
        if (!main) return problems.add(`${path}.architecture`, `unknown architecture ${describe(m.architecture)}`);
        const subs: string[] = [];
        if (m.subArchitectures !== undefined && m.subArchitectures !== null) {
          const list = parseStringList(m.subArchitectures, `${path}.subArchitectures`, problems) ?? [];
          list.forEach((s, j) => {
            const a = archByAnyName(s);
            if (!a) problems.add(`${path}.subArchitectures[${j}]`, `unknown architecture ${JSON.stringify(s)}`);
            else subs.push(a.name);
          });
        }
        archMap!.push({ architecture: main.name, subArchitectures: subs });
      });
    }
  }

  const flags: string[] = [];
  if (d.flags !== undefined && d.flags !== null) {
    const list = parseStringList(d.flags, p('flags'), problems) ?? [];
    list.forEach((f, i) => {
      if (!KNOWN_FLAGS.has(f)) problems.add(`${p('flags')}[${i}]`, `unknown flag ${JSON.stringify(f)}`);
      else if (!flags.includes(f)) flags.push(f);
    });
  }
  for (const k of ['listenerPath', 'listenerMetadata'] as const) {
    if (d[k] !== undefined && typeof d[k] !== 'string') problems.add(p(k), 'expected a string');
  }

  const rules: Rule[] = [];
  if (d.syscalls !== undefined && d.syscalls !== null) {
    if (!Array.isArray(d.syscalls)) problems.add(p('syscalls'), 'expected a list');
    else
      d.syscalls.forEach((r, i) => {
        const rule = parseRule(r, `${p('syscalls')}[${i}]`, problems);
        if (rule) rules.push(rule);
      });
  }
  if (!defaultAction && d.defaultAction === undefined) problems.list.unshift(`${p('defaultAction')}: missing`);
  problems.throwIfAny(file);

  const profile: Profile = { defaultAction: defaultAction!, architectures, rules, flags };
  if (defaultErrnoRet !== undefined) profile.defaultErrnoRet = defaultErrnoRet;
  if (archMap) profile.archMap = archMap;
  if (typeof d.listenerPath === 'string') profile.listenerPath = d.listenerPath;
  if (typeof d.listenerMetadata === 'string') profile.listenerMetadata = d.listenerMetadata;
  return profile;
}

export function parseOciProfile(text: string, file: string): Profile {
  return profileFromOciObject(parseJsonDocument(text, file), file);
}

const BIG = '\u0000bigint:';

function ociActionFields(a: Action): Record<string, unknown> {
  const out: Record<string, unknown> = { action: ACTION_TO_OCI[a.kind] };
  if (a.ret !== undefined) out.errnoRet = a.ret;
  return out;
}

/** The profile as plain OCI JSON: what runc, crun, containerd, CRI-O and Docker accept. */
export function ociObject(profile: Profile): Record<string, unknown> {
  const out: Record<string, unknown> = { defaultAction: ACTION_TO_OCI[profile.defaultAction.kind] };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  out.architectures = profile.architectures.map((a) => archByName(a)?.oci ?? a);
  if (profile.flags.length) out.flags = [...profile.flags];
  if (profile.listenerPath !== undefined) out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata !== undefined) out.listenerMetadata = profile.listenerMetadata;
  out.syscalls = profile.rules.map((r) => {
    const rule: Record<string, unknown> = { names: [...r.names], ...ociActionFields(r.action) };
    if (r.args.length)
      rule.args = r.args.map((c) => ({
        index: c.index,
        value: `${BIG}${c.value}`,
        valueTwo: `${BIG}${c.valueTwo}`,
        op: OPERATOR_TO_OCI[c.op],
      }));
    if (r.comment) rule.comment = r.comment;
    if (r.includes) rule.includes = r.includes;
    if (r.excludes) rule.excludes = r.excludes;
    return rule;
  });
  return out;
}

/** Deterministic OCI JSON text, 2-space indented, newline-terminated. 64-bit values stay exact. */
export function serializeOci(profile: Profile): string {
  return stringifyWithBigints(ociObject(profile));
}

export function stringifyWithBigints(value: unknown): string {
  const text = JSON.stringify(value, null, 2);
  return `${text.replace(/"\\u0000bigint:(\d+)"/g, '$1')}\n`;
}
