// Plays the kubelet for one single-container Pod through the CRI: sandbox
// with the Pod-level seccomp profile (a Localhost file path, as the kubelet
// resolves `localhostProfile`, or none), the container under the same
// profile, wait for its exit, read its CRI log, stop and remove the sandbox.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CriClient, Message } from './client.js';

export interface PodSpec {
  name: string;
  namespace: string;
  uid: string;
  container: string;
  image: string;
  command: string[];
  /** Absolute path of the Localhost seccomp profile; undefined: Unconfined (no profile at all). */
  seccompProfile?: string;
  /**
   * pod (default): the Pod's securityContext, which the kubelet hands to the
   * sandbox and the container; container: the container's only (the sandbox
   * Unconfined).
   */
  profileOn?: 'pod' | 'container';
  /** Where the Pod's logs go (the kubelet's /var/log/pods/<uid>). */
  logDir: string;
  timeoutMs?: number;
}

export interface PodRun {
  sandboxId: string;
  containerId: string;
  exitCode: number;
  reason: string;
  /** stdout as the container wrote it, re-assembled from the CRI log. */
  stdout: string;
  stderr: string;
}

/** The kubelet's copy of a security profile field. */
function seccompOf(path: string | undefined): Message {
  return path ? { profile_type: 'Localhost', localhost_ref: path } : { profile_type: 'Unconfined' };
}

/** stdout and stderr from a CRI log file (`TIME STREAM P|F TEXT` lines; P = the line goes on). */
export function parseCriLog(text: string): { stdout: string; stderr: string } {
  const out = { stdout: '', stderr: '' };
  for (const line of text.split('\n')) {
    const m = /^\S+ (stdout|stderr) ([PF]) (.*)$/.exec(line);
    if (m) out[m[1] as 'stdout' | 'stderr'] += m[3] + (m[2] === 'F' ? '\n' : '');
  }
  return out;
}

const stateOf = async (cri: CriClient, id: string) => (await cri.runtime('ContainerStatus', { container_id: id })).status as Message;

/**
 * Runs the Pod to its container's exit; the sandbox is always stopped and
 * removed. A CreateContainer/StartContainer failure (a bad profile) rejects
 * with the runtime's message, as the kubelet's CreateContainerError shows it.
 */
export async function runPod(cri: CriClient, spec: PodSpec): Promise<PodRun> {
  const logDir = join(spec.logDir, spec.uid);
  mkdirSync(logDir, { recursive: true });
  // Host network (no CNI here), own PID namespace per container as the kubelet asks for v1 Pods.
  const namespaceOptions = { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' };
  const sandboxConfig: Message = {
    metadata: { name: spec.name, uid: spec.uid, namespace: spec.namespace, attempt: 0 },
    log_directory: logDir,
    linux: { security_context: { namespace_options: namespaceOptions, seccomp: seccompOf(spec.profileOn === 'container' ? undefined : spec.seccompProfile) } },
  };
  const sandbox = await cri.runtime('RunPodSandbox', { config: sandboxConfig });
  const sandboxId = sandbox.pod_sandbox_id as string;
  try {
    const logPath = `${spec.container}/0.log`;
    const created = await cri.runtime('CreateContainer', {
      pod_sandbox_id: sandboxId,
      sandbox_config: sandboxConfig,
      config: {
        metadata: { name: spec.container, attempt: 0 },
        image: { image: spec.image },
        command: spec.command,
        log_path: logPath,
        linux: { security_context: { namespace_options: namespaceOptions, seccomp: seccompOf(spec.seccompProfile) } },
      },
    });
    const containerId = created.container_id as string;
    await cri.runtime('StartContainer', { container_id: containerId });
    const end = Date.now() + (spec.timeoutMs ?? 60_000);
    let status = await stateOf(cri, containerId);
    while (status.state !== 'CONTAINER_EXITED') {
      if (Date.now() > end) throw new Error(`container ${spec.container} of pod ${spec.name} did not exit within ${spec.timeoutMs ?? 60_000} ms (state ${String(status.state)})`);
      await new Promise((r) => setTimeout(r, 100));
      status = await stateOf(cri, containerId);
    }
    const file = join(logDir, logPath);
    const logs = parseCriLog(existsSync(file) ? readFileSync(file, 'utf8') : '');
    await cri.runtime('RemoveContainer', { container_id: containerId });
    return { sandboxId, containerId, exitCode: status.exit_code as number, reason: status.reason as string, ...logs };
  } finally {
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: sandboxId });
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: sandboxId });
  }
}
