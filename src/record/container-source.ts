// The one interface the agent records containers through: a source (notify,
// audit, bpf) finds containers, tells the sink who they might be (identity
// hints), hands over their new calls each tick split by phase, what it knows
// was missed, and when they end. The agent never asks which source runs.
import type { Logger } from 'pino';
import type { Observation } from '../profile/recording.js';

/** 'runtime': calls the OCI runtime makes before the container's entrypoint exec; 'workload': from it on. */
export type Phase = 'workload' | 'runtime';

export type MetricType = 'counter' | 'gauge';

export interface Sample {
  labels?: Record<string, string>;
  value: number;
}

/** One Prometheus metric family (rendered by the agent). */
export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

/** What a source knows that may name a container's image; the agent's lookups do the rest. */
export interface ContainerHints {
  containerId: string;
  /** The runtime binary (runc, crun), or 'unknown'. */
  runtime: string;
  /** Annotations the runtime handed over with the container (notify's state message). */
  annotations?: Record<string, string>;
  /** Directories that may hold the container's config.json, most specific first. */
  bundles?: string[];
  /** podman manages it (its annotations do not name the image: ask podman). */
  podman?: boolean;
  /** An image name the recording profile carried (`recording-profile --image`). */
  imageHint?: string;
  pid?: number;
  /** Syscalls the source cannot observe for this container (always allowed in generated profiles). */
  uncovered?: string[];
  /** Runs without seccomp with every capability: a generated profile applies only once it is not privileged. */
  privileged?: boolean;
  /** Already running when the source started: its calls from before were not seen. */
  resumed?: { startedAt?: Date };
}

/** Cumulative figures of one container, as far as the source knows them. */
export interface ContainerProgress {
  /** Calls (notify: notifications; audit: records; bpf: syscalls counted) so far. */
  events: number;
  /** Calls or argument values known missed (lower bound). */
  lost: number;
}

/** The log line a container's end deserves, in the source's words. */
export interface EndNote {
  msg: string;
  level?: 'info' | 'warn' | 'error';
  fields?: Record<string, unknown>;
}

/** Where a source delivers; `key` is the source's own handle of one container, unique while it lives. */
export interface ContainerSink {
  started(key: string, hints: ContainerHints): void;
  /** New calls since the last batch of this container (counts are deltas). */
  calls(key: string, phase: Phase, calls: Observation[]): void;
  progress(key: string, p: ContainerProgress): void;
  /** No more calls will come for this key; `note` is logged once the container is named. */
  ended(key: string, note?: EndNote): void;
}

export interface ContainerSource {
  /** 'notify', 'audit', 'bpf'. */
  readonly name: string;
  /** From here on containers are recorded. Throws (UnsupportedError, UsageError) when the source cannot run. */
  start(sink: ContainerSink, log: Logger): Promise<void>;
  /** Hands every container's new calls to the sink (called each batch interval). */
  tick(): void;
  /**
   * Takes no new containers, gives live ones up to `drainMs` to end (only a
   * source that would break them by leaving waits), then ends every live
   * container at the sink and releases everything.
   */
  stop(drainMs: number): Promise<void>;
  /** Containers the source still serves or watches. */
  readonly liveCount: number;
  metrics(): MetricFamily[];
  /** A few fields for the 'agent ready' log line. */
  describe(): Record<string, unknown>;
}
