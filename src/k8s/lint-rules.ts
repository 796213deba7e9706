// The lint rules: a stable id, a severity, what the Pod Security Standards say
// of it (baseline/restricted), and the check over one container's effective
// settings or one Pod's own fields. Rule ids are an interface (annotations and
// CI filters name them): never rename one.
import type { Node } from 'yaml';
import { normalizeCap } from '../profile/baseline.js';
import type { EffectiveSecurity } from './security-context.js';
import { podField } from './security-context.js';
import type { ContainerRef, Workload } from './workloads.js';

export type Severity = 'error' | 'warning' | 'note';

export interface RuleInfo {
  id: string;
  severity: Severity;
  /** One line: what is wrong. */
  title: string;
  /** What to do about it. */
  help: string;
  /** The Pod Security Standards level that forbids it, when one does. */
  pss?: 'baseline' | 'restricted';
}

export const RULES: readonly RuleInfo[] = [
  { id: 'seccomp-missing', severity: 'error', pss: 'restricted', title: 'no seccomp profile set', help: 'Set securityContext.seccompProfile (Pod or container) to Localhost with a recorded profile, or at least RuntimeDefault; `seccomp-recorder patch` sets Localhost profiles.' },
  { id: 'seccomp-unconfined', severity: 'error', pss: 'baseline', title: 'seccomp profile Unconfined', help: 'Unconfined turns syscall filtering off; record the workload and use its Localhost profile, or RuntimeDefault.' },
  { id: 'localhost-profile-invalid', severity: 'error', title: 'Localhost seccomp profile not usable', help: 'localhostProfile is a path relative to <kubelet-root>/seccomp: not absolute, no "..", and it must name a valid profile.' },
  { id: 'localhost-profile-missing', severity: 'error', title: 'Localhost seccomp profile not installed', help: 'The kubelet fails the container (CreateContainerError) when the file is missing; install it with `seccomp-recorder export` on every node.' },
  { id: 'localhost-profile-uncovered', severity: 'error', title: 'Localhost seccomp profile denies recorded syscalls', help: 'The profile does not allow what was recorded for the image: the workload would fail. Regenerate it from the recordings (`recordings profile IMAGE`) and export it again.' },
  { id: 'privileged', severity: 'error', pss: 'baseline', title: 'privileged container', help: 'A privileged container runs with every capability and without seccomp (no profile applies, not even one that is set); drop privileged and add only the capabilities needed.' },
  { id: 'allow-privilege-escalation', severity: 'error', pss: 'restricted', title: 'allowPrivilegeEscalation not false', help: 'Set securityContext.allowPrivilegeEscalation: false (no_new_privs): setuid binaries and file capabilities then cannot raise privileges.' },
  { id: 'capabilities-drop-all', severity: 'error', pss: 'restricted', title: 'capabilities do not drop ALL', help: 'Set securityContext.capabilities.drop: [ALL] and add back only what is needed (NET_BIND_SERVICE).' },
  { id: 'capabilities-add-dangerous', severity: 'error', pss: 'baseline', title: 'adds a capability beyond the default set', help: 'Capabilities such as SYS_ADMIN, NET_ADMIN, SYS_PTRACE or BPF widen what the kernel lets the container do far beyond the runtime default; remove them or accept with a reason.' },
  { id: 'capabilities-add', severity: 'warning', pss: 'restricted', title: 'adds a capability other than NET_BIND_SERVICE', help: 'The restricted level allows adding only NET_BIND_SERVICE.' },
  { id: 'run-as-non-root', severity: 'error', pss: 'restricted', title: 'runAsNonRoot not true', help: 'Set securityContext.runAsNonRoot: true (Pod or container) so the kubelet refuses to start the container as root.' },
  { id: 'run-as-root-user', severity: 'error', pss: 'restricted', title: 'runAsUser is 0 (root)', help: 'Run as a non-zero user id.' },
  { id: 'host-pid', severity: 'error', pss: 'baseline', title: 'hostPID: true', help: "Sharing the host's PID namespace lets the container see and signal every process of the node." },
  { id: 'host-ipc', severity: 'error', pss: 'baseline', title: 'hostIPC: true', help: "Sharing the host's IPC namespace exposes the node's shared memory and message queues." },
  { id: 'host-network', severity: 'error', pss: 'baseline', title: 'hostNetwork: true', help: "Sharing the host's network namespace exposes the node's interfaces and local services." },
  { id: 'host-users', severity: 'note', title: "uses the host's user namespace", help: 'hostUsers: false runs the Pod in its own user namespace (root inside is unprivileged outside), where the cluster supports it.' },
  { id: 'proc-mount-unmasked', severity: 'error', pss: 'baseline', title: 'procMount: Unmasked', help: 'An unmasked /proc exposes kernel interfaces the runtime normally hides; use the Default procMount.' },
  { id: 'apparmor-unconfined', severity: 'error', pss: 'baseline', title: 'AppArmor profile Unconfined', help: 'Use RuntimeDefault or a Localhost AppArmor profile.' },
  { id: 'accept-annotation-invalid', severity: 'warning', title: 'acceptance annotation not honoured', help: 'An acceptance annotation names an existing rule id and gives a non-empty reason: seccomp-recorder.io/accept-RULE: "why".' },
  { id: 'selinux-type', severity: 'error', pss: 'baseline', title: 'SELinux type or user/role not allowed', help: 'Only container_t, container_init_t, container_kvm_t and container_engine_t are allowed types (spc_t runs unconfined), and seLinuxOptions user/role must not be set.' },
];

export const RULE_BY_ID: ReadonlyMap<string, RuleInfo> = new Map(RULES.map((r) => [r.id, r]));

/** A check's raw result; lint.ts adds the file, line, object and severity. */
export interface RawFinding {
  ruleId: string;
  message: string;
  node: Node | undefined;
  /** Overrides the rule's default severity (hostUsers: true is worse than leaving it out). */
  severity?: Severity;
}

/** Capabilities the baseline level allows adding (the runtime default set, without NET_RAW). */
const BASELINE_CAPS = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'].map(normalizeCap));
const RESTRICTED_CAPS = new Set([normalizeCap('NET_BIND_SERVICE')]);
const SELINUX_TYPES = new Set(['container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

const where = (level: string) => (level === 'pod' ? ' (from the Pod securityContext)' : '');

/** Checks of one container (the Pod's own fields are in podChecks). */
export function containerChecks(c: ContainerRef, s: EffectiveSecurity): RawFinding[] {
  const out: RawFinding[] = [];
  const add = (ruleId: string, message: string, node: Node | undefined) => out.push({ ruleId, message, node: node ?? c.node });
  if (!s.seccomp) add('seccomp-missing', 'no seccompProfile at container or Pod level (the runtime may run it Unconfined)', c.node);
  else if (s.seccomp.value.type === 'Unconfined') add('seccomp-unconfined', `seccompProfile type Unconfined${where(s.seccomp.level)}`, s.seccomp.node);
  else if (!['RuntimeDefault', 'Localhost'].includes(s.seccomp.value.type))
    add('seccomp-missing', `seccompProfile type ${JSON.stringify(s.seccomp.value.type)} is not RuntimeDefault, Localhost or Unconfined`, s.seccomp.node);
  if (s.privileged?.value === true)
    add('privileged', `privileged: true: seccomp is not applied at all${s.seccomp && s.seccomp.value.type !== 'Unconfined' ? `, so its ${s.seccomp.value.type} profile has no effect` : ''}`, s.privileged.node);
  if (s.allowPrivilegeEscalation?.value !== false)
    add('allow-privilege-escalation', s.allowPrivilegeEscalation ? `allowPrivilegeEscalation: ${String(s.allowPrivilegeEscalation.value)}` : 'allowPrivilegeEscalation not set (it defaults to true)', s.allowPrivilegeEscalation?.node);
  if (!s.capDrop.some((d) => normalizeCap(d.value) === 'CAP_ALL'))
    add('capabilities-drop-all', s.capDrop.length ? `drops ${s.capDrop.map((d) => d.value).join(', ')} but not ALL` : 'capabilities.drop does not list ALL', s.capDrop[0]?.node);
  for (const a of s.capAdd) {
    const cap = normalizeCap(a.value);
    if (cap === 'CAP_ALL' || !BASELINE_CAPS.has(cap)) add('capabilities-add-dangerous', `adds ${a.value}`, a.node);
    else if (!RESTRICTED_CAPS.has(cap)) add('capabilities-add', `adds ${a.value}`, a.node);
  }
  if (s.runAsNonRoot?.value !== true)
    add('run-as-non-root', s.runAsNonRoot ? `runAsNonRoot: ${String(s.runAsNonRoot.value)}${where(s.runAsNonRoot.level)}` : 'runAsNonRoot not set at container or Pod level', s.runAsNonRoot?.node);
  if (s.runAsUser && Number(s.runAsUser.value) === 0) add('run-as-root-user', `runAsUser: 0${where(s.runAsUser.level)}`, s.runAsUser.node);
  if (s.procMount?.value === 'Unmasked') add('proc-mount-unmasked', 'procMount: Unmasked', s.procMount.node);
  if (s.appArmor?.value.type === 'Unconfined')
    add('apparmor-unconfined', s.appArmor.node ? `appArmorProfile type Unconfined${where(s.appArmor.level)}` : `annotation container.apparmor.security.beta.kubernetes.io/${c.name}: unconfined`, s.appArmor.node);
  if (s.seLinuxType && !SELINUX_TYPES.has(s.seLinuxType.value)) add('selinux-type', `seLinuxOptions.type ${s.seLinuxType.value}${where(s.seLinuxType.level)}`, s.seLinuxType.node);
  if (s.seLinuxUserOrRole) add('selinux-type', `seLinuxOptions sets user or role (${s.seLinuxUserOrRole.value})${where(s.seLinuxUserOrRole.level)}`, s.seLinuxUserOrRole.node);
  return out;
}

/** Checks of the Pod's own fields (host namespaces). */
export function podChecks(w: Workload): RawFinding[] {
  const out: RawFinding[] = [];
  for (const [key, ruleId] of [['hostPID', 'host-pid'], ['hostIPC', 'host-ipc'], ['hostNetwork', 'host-network']] as const) {
    const f = podField(w, key);
    if (f?.value === true) out.push({ ruleId, message: `${key}: true`, node: f.node });
  }
  const users = podField(w, 'hostUsers');
  if (users?.value === true) out.push({ ruleId: 'host-users', message: 'hostUsers: true', node: users.node, severity: 'warning' });
  else if (!users) out.push({ ruleId: 'host-users', message: "hostUsers not set: the Pod shares the node's user namespace", node: w.podSpec });
  return out;
}
