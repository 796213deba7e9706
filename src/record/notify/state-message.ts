// The message an OCI runtime sends on `listenerPath` (runtime-spec "The
// Container Process State"): {ociVersion, fds, pid, metadata, state:{id,
// status, pid, bundle, annotations}}. Untrusted input: every field is checked,
// and a problem is a sentence naming the field, never an exception escaping.
import { describe, isRecord } from '../../profile/json-input.js';

export interface ContainerProcessState {
  ociVersion: string;
  /** The container process pid (in the agent's pid namespace), when given. */
  pid?: number;
  metadata?: string;
  containerId: string;
  status?: string;
  bundle?: string;
  annotations: Record<string, string>;
}

export type StateParse = { ok: true; state: ContainerProcessState } | { ok: false; problem: string };

/**
 * runc's rule for container ids (crun's and podman's fit it too), but starting
 * with a letter or digit: an id goes onto command lines (`podman inspect`), and
 * one starting with "-" would be read as an option.
 */
const CONTAINER_ID = /^[A-Za-z0-9][\w+.-]{0,1023}$/;

export function isContainerId(id: string): boolean {
  return CONTAINER_ID.test(id);
}

export function parseStateMessage(text: string | undefined): StateParse {
  if (text === undefined || !text.trim()) return { ok: false, problem: 'no container state was sent' };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: `the container state is not JSON (${(err as Error).message})` };
  }
  if (!isRecord(doc)) return { ok: false, problem: `the container state is ${describe(doc)}, expected an object` };
  const state = doc.state;
  if (!isRecord(state)) return { ok: false, problem: `state: expected an object, got ${describe(state)}` };
  if (typeof state.id !== 'string' || !CONTAINER_ID.test(state.id))
    return { ok: false, problem: `state.id: expected a container id, got ${describe(state.id)}` };
  if (!Array.isArray(doc.fds) || !doc.fds.includes('seccompFd'))
    return { ok: false, problem: `fds: expected a list naming "seccompFd", got ${describe(doc.fds)}` };

  const out: ContainerProcessState = {
    ociVersion: typeof doc.ociVersion === 'string' ? doc.ociVersion : '',
    containerId: state.id,
    annotations: {},
  };
  const pid = typeof doc.pid === 'number' ? doc.pid : state.pid;
  if (typeof pid === 'number' && Number.isInteger(pid) && pid > 0) out.pid = pid;
  if (typeof doc.metadata === 'string') out.metadata = doc.metadata;
  if (typeof state.status === 'string') out.status = state.status;
  if (typeof state.bundle === 'string' && state.bundle.startsWith('/')) out.bundle = state.bundle;
  if (isRecord(state.annotations)) {
    for (const [k, v] of Object.entries(state.annotations)) if (typeof v === 'string') out.annotations[k] = v;
  }
  return { ok: true, state: out };
}
