// Which compat syscall ABIs this kernel runs (x86_64: i386 through int 0x80, x32), asked of the native abi probe.
import { execFile } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { arch } from 'node:process';
import { constants as osConstants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { NativeError, UnsupportedError } from '../errors.js';
import { archesOfKernel } from '../seccomp/arch.js';
import { errnoName } from '../util/errno.js';

export const ABI_PROBE_PATH = fileURLToPath(new URL('../../build/Release/seccomp-recorder-abi-probe', import.meta.url));

export type CompatAbi = 'i386' | 'x32';

export interface AbiFact {
  abi: CompatAbi;
  /** For people: `32-bit (i386)` or `x32`. */
  label: string;
  /** The kernel ran the call: getpid answered with the caller's pid. */
  runs: boolean;
  /**
   * The call came back to its caller, whatever the answer (the pid, or an errno
   * such as ENOSYS): the kernel's seccomp hook saw it, so a recorder sees it too.
   */
  returned: boolean;
  /** What the probe saw, e.g. `int 0x80 → SIGSEGV`, `x32 getpid → ENOSYS`, `int 0x80 getpid → its pid`. */
  seen: string;
}

export type AbiProbe =
  | { applicable: true; i386: AbiFact; x32: AbiFact }
  /** Not an x86_64 machine: there is no i386 or x32 entry to probe. */
  | { applicable: false; machine: string };

type RawOutcome =
  | { status: 'returned'; value: number; pid: number }
  | { status: 'signal'; signal: number }
  | { status: 'exited'; code: number };

const SIGNAL_NAMES = new Map<number, string>();
for (const [name, n] of Object.entries(osConstants.signals)) if (!SIGNAL_NAMES.has(n)) SIGNAL_NAMES.set(n, name);

const HOW: Record<CompatAbi, { label: string; call: string }> = {
  i386: { label: '32-bit (i386)', call: 'int 0x80' },
  x32: { label: 'x32', call: 'x32 getpid' },
};

function isOutcome(v: unknown): v is RawOutcome {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  if (o.status === 'returned') return Number.isInteger(o.value) && Number.isInteger(o.pid);
  if (o.status === 'signal') return Number.isInteger(o.signal);
  if (o.status === 'exited') return Number.isInteger(o.code);
  return false;
}

/** Turns one raw outcome into the fact; exported for the wording's tests. */
export function abiFact(abi: CompatAbi, raw: RawOutcome): AbiFact {
  const { label, call } = HOW[abi];
  if (raw.status === 'signal') {
    const name = SIGNAL_NAMES.get(raw.signal) ?? `signal ${raw.signal}`;
    return { abi, label, runs: false, returned: false, seen: `${call} → ${name}` };
  }
  if (raw.status === 'exited') return { abi, label, runs: false, returned: false, seen: `${call}: the probe child exited with status ${raw.code}` };
  if (raw.value === raw.pid) return { abi, label, runs: true, returned: true, seen: `${call} getpid → its pid` };
  if (raw.value < 0 && raw.value > -4096) return { abi, label, runs: false, returned: true, seen: `${call} → ${errnoName(-raw.value)}` };
  return { abi, label, runs: false, returned: true, seen: `${call} getpid → ${raw.value}, not the caller's pid ${raw.pid}` };
}

/** `run by this kernel`, or `not run by this kernel (int 0x80 → SIGSEGV)`. */
export function describeAbi(fact: AbiFact): string {
  return fact.runs ? 'run by this kernel' : `not run by this kernel (${fact.seen})`;
}

function runProbe(): Promise<string> {
  try {
    accessSync(ABI_PROBE_PATH, fsConstants.X_OK);
  } catch (err) {
    throw new UnsupportedError('the ABI probe is not built; run `npm ci` (or `npm run build`) in the package directory', [
      `${ABI_PROBE_PATH}: ${(err as Error).message}`,
    ], err);
  }
  return new Promise((resolve, reject) => {
    execFile(ABI_PROBE_PATH, [], { encoding: 'utf8', timeout: 30_000 }, (err, stdout) => {
      if (err) reject(new NativeError(`the ABI probe failed: ${stdout.trim() || err.message}`, 0, err));
      else resolve(stdout);
    });
  });
}

/** Runs the probe (two short-lived children); on anything but x86_64 answers `applicable: false` at once. */
export async function probeCompatAbis(): Promise<AbiProbe> {
  if (arch !== 'x64') return { applicable: false, machine: arch };
  const text = await runProbe();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new NativeError(`the ABI probe printed something that is not JSON: ${JSON.stringify(text.slice(0, 200))}`, 0, err);
  }
  if (parsed.machine !== 'x86_64' || !isOutcome(parsed.i386) || !isOutcome(parsed.x32))
    throw new NativeError(`the ABI probe's answer has an unexpected shape: ${text.trim().slice(0, 200)}`);
  return { applicable: true, i386: abiFact('i386', parsed.i386), x32: abiFact('x32', parsed.x32) };
}

/** Both facts as `doctor` lines (`32-bit (i386) syscalls: run by this kernel`); a failed probe is one line saying why. */
export async function compatAbiReport(): Promise<{ name: string; ok: boolean; detail: string }[]> {
  let probe: AbiProbe;
  try {
    probe = await probeCompatAbis();
  } catch (err) {
    return [{ name: 'compat syscall ABIs', ok: false, detail: (err as Error).message }];
  }
  if (!probe.applicable) {
    return (['i386', 'x32'] as const).map((abi) => ({ name: `${HOW[abi].label} syscalls`, ok: true, detail: `not applicable (${probe.machine}, not x86_64)` }));
  }
  return [probe.i386, probe.x32].map((f) => ({ name: `${f.label} syscalls`, ok: f.runs, detail: describeAbi(f) }));
}

/**
 * The ABIs a container on this kernel can actually run calls through, as
 * libseccomp arch names: on x86_64 the native one plus i386 and x32 where the
 * probe saw them run (a call the kernel refuses, ENOSYS or SIGSEGV, does
 * nothing a profile needs to allow); elsewhere the kernel's usual list, which
 * cannot be probed. `left` says what was left out and why, for people.
 */
export async function archesThisKernelRuns(): Promise<{ arches: string[]; left: { arch: string; why: string }[] }> {
  const probe = await probeCompatAbis();
  if (!probe.applicable) return { arches: archesOfKernel(), left: [] };
  const arches = ['x86_64'];
  const left: { arch: string; why: string }[] = [];
  for (const [arch, fact] of [['x86', probe.i386], ['x32', probe.x32]] as const) {
    if (fact.runs) arches.push(arch);
    else left.push({ arch, why: describeAbi(fact) });
  }
  return { arches, left };
}
