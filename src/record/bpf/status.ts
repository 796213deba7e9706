// Whether the bpf source works here, and why not: capabilities, the cgroup v2
// hierarchy, and a real load + attach + detach of the programs. For `doctor`.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { cgroup2Root } from './cgroup2.js';
import { BpfPrograms } from './programs.js';

const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

export interface BpfStatus {
  ok: boolean;
  /** One line for people: what works, or the first thing that does not. */
  detail: string;
  capabilities: string[];
  cgroup2?: string;
}

function effectiveCaps(): bigint {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? BigInt(`0x${m[1]}`) : 0n;
  } catch {
    return 0n;
  }
}

export function bpfStatus(): BpfStatus {
  const eff = effectiveCaps();
  const has = (bit: bigint) => (eff >> bit) & 1n;
  const capabilities = [
    ...(has(CAP_SYS_ADMIN) ? ['CAP_SYS_ADMIN'] : []),
    ...(has(CAP_BPF) ? ['CAP_BPF'] : []),
    ...(has(CAP_PERFMON) ? ['CAP_PERFMON'] : []),
  ];
  if (!has(CAP_SYS_ADMIN) && !(has(CAP_BPF) && has(CAP_PERFMON)))
    return { ok: false, capabilities, detail: 'needs root (CAP_SYS_ADMIN, or CAP_BPF + CAP_PERFMON on Linux >= 5.8); record and the agent use notify instead' };
  let root: string;
  try {
    root = cgroup2Root();
  } catch (err) {
    return { ok: false, capabilities, detail: (err as Error).message };
  }
  try {
    BpfPrograms.open().close();
  } catch (err) {
    return { ok: false, capabilities, cgroup2: root, detail: (err as Error).message };
  }
  return {
    ok: true,
    capabilities,
    cgroup2: root,
    detail: `programs load and attach (raw tracepoints sys_enter, sched_process_exec; Linux ${release()}); cgroup v2 at ${root}`,
  };
}
