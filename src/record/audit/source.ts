// The live audit source: follows auditd's log when an audit daemon is
// registered, the kernel log (/dev/kmsg) otherwise, and switches when that
// changes (mode 'auto'). Each SECCOMP record becomes an AuditObservation,
// attributed to a container through /proc/PID/cgroup at once (the process
// may be gone soon); loss evidence from every signal is gathered and emitted.
//
//   const src = new AuditSource({ logger });
//   src.on('observation', (o) => ...);   // SCMP_ACT_LOG records
//   src.on('denial', (o) => ...);        // records of other actions (kill, errno, ...)
//   src.on('loss', ({ what, count }) => ...);
//   await src.start(); ... await src.stop(); src.stats();
import { EventEmitter } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { UnsupportedError } from '../../errors.js';
import type { Attribution } from './cgroup.js';
import { PidAttributor } from './cgroup.js';
import type { FollowStats } from './follow.js';
import { FileFollower } from './follow.js';
import { KMSG_PATH, KmsgReader } from './kmsg.js';
import { DEFAULT_MAX_LINE_BYTES } from './lines.js';
import { isRuntimeComm } from './log-profile.js';
import { RuntimeContainers } from './runtime-state.js';
import type { LossSummary } from './loss.js';
import { LossTracker } from './loss.js';
import type { SeccompAction, SeccompRecord } from './parse.js';
import type { AuditStatus } from './status.js';
import { AUDITD_CONF, auditdLogFile, readAuditStatus } from './status.js';
import type { StreamStats } from './stream.js';
import { AuditLineHandler } from './stream.js';
import { SyscallNamer } from './tally.js';

export type AuditMode = 'auditd' | 'kmsg';

export interface AuditObservation {
  /** Milliseconds since the epoch, the kernel's stamp. */
  time: number;
  pid: number;
  uid?: number;
  comm?: string;
  exe?: string;
  auditArch: number;
  /** libseccomp arch name; undefined for an arch number we do not know. */
  arch?: string;
  nr: number;
  syscall?: string;
  action: SeccompAction;
  code: number;
  /** `runtime`: the OCI runtime's own call before it exec'd the workload (runc:[2:INIT], crun). */
  phase: 'runtime' | 'workload';
  attribution: Attribution;
}

export interface AuditSourceOptions {
  mode?: 'auto' | AuditMode;
  /** auditd's log; default: `log_file` of /etc/audit/auditd.conf. */
  auditLog?: string;
  auditdConf?: string;
  kmsgPath?: string;
  /** Also read what the log / ring buffer already holds. */
  fromStart?: boolean;
  pollMs?: number;
  /** How often the kernel's audit status (lost counter, consumer) is read; 0: never. */
  statusPollMs?: number;
  maxLineBytes?: number;
  attributor?: PidAttributor;
  /** Where the runtimes keep container state; default DEFAULT_STATE_ROOTS. */
  runtimeStateRoots?: string[];
  auditctl?: string;
  logger?: Logger;
}

export interface AuditSourceStats {
  mode?: AuditMode;
  file?: string;
  lines: StreamStats;
  observations: number;
  denials: number;
  /** Records attributed to a container, to a host process, or to a pid gone before it could be read. */
  inContainer: number;
  onHost: number;
  unattributed: number;
  consumerChanges: number;
  /** Why the audit status (lost counter) could not be read, if it could not. */
  statusUnavailable?: string;
  follow?: FollowStats;
  loss: LossSummary;
}

export interface AuditSourceEvents {
  observation: [AuditObservation];
  denial: [AuditObservation];
  loss: [{ what: string; count?: number }];
  warning: [string];
}

/** The printk rate limit audit records pass through when no auditd runs. */
export function printkRateLimit(): { intervalSeconds: number; burst: number } | undefined {
  try {
    const intervalSeconds = Number(readFileSync('/proc/sys/kernel/printk_ratelimit', 'utf8'));
    const burst = Number(readFileSync('/proc/sys/kernel/printk_ratelimit_burst', 'utf8'));
    return Number.isFinite(intervalSeconds) && Number.isFinite(burst) ? { intervalSeconds, burst } : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process named auditd runs (when auditctl cannot tell). */
function auditdProcessRunning(): boolean {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'auditd') return true;
    } catch {
      /* exited meanwhile */
    }
  }
  return false;
}

export class AuditSource extends EventEmitter<AuditSourceEvents> {
  readonly loss = new LossTracker();
  /** The runtimes' containers (ids of `runc run ID` cgroups, bundles for identity). */
  readonly containers: RuntimeContainers;
  private readonly handler: AuditLineHandler;
  private readonly attributor: PidAttributor;
  private readonly namer = new SyscallNamer();
  private mode: AuditMode | undefined;
  private file: string | undefined;
  private follower: FileFollower | undefined;
  /** Counters of followers closed by a switch or stop. */
  private followedBefore: FollowStats | undefined;
  private kmsg: KmsgReader | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private statusRunning: Promise<void> = Promise.resolve();
  private statusUnavailable: string | undefined;
  private stopped = false;
  private readonly counts = { observations: 0, denials: 0, inContainer: 0, onHost: 0, unattributed: 0, consumerChanges: 0 };

  constructor(private readonly opts: AuditSourceOptions = {}) {
    super();
    this.containers = new RuntimeContainers(opts.runtimeStateRoots);
    this.attributor = opts.attributor ?? new PidAttributor({ isKnown: (id) => this.containers.has(id) });
    this.handler = new AuditLineHandler(this.loss, (r) => this.onRecord(r));
    this.loss.onLoss = (what, count) => this.emit('loss', count === undefined ? { what } : { what, count });
  }

  /** Picks the mode (auto: auditd when one is registered), opens the source and starts reading. */
  async start(): Promise<void> {
    const status = await this.readStatus();
    let mode = this.opts.mode ?? 'auto';
    if (mode === 'auto') mode = (status ? status.pid > 0 : auditdProcessRunning()) ? 'auditd' : 'kmsg';
    await this.open(mode, this.opts.fromStart === true);
    if (status) this.loss.noteStatusLost(status.lost);
    this.scheduleStatus();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.statusTimer);
    await this.statusRunning;
    await this.close();
    const status = await this.readStatus();
    if (status) this.loss.noteStatusLost(status.lost);
    this.loss.finish();
  }

  stats(): AuditSourceStats {
    const out: AuditSourceStats = { mode: this.mode, lines: this.handler.stats, ...this.counts, loss: this.loss.summary() };
    if (this.file) out.file = this.file;
    const follow = this.follower?.stats ?? this.followedBefore;
    if (follow) out.follow = follow;
    if (this.statusUnavailable) out.statusUnavailable = this.statusUnavailable;
    return out;
  }

  private logFile(): string {
    if (this.opts.auditLog) return this.opts.auditLog;
    let conf: string | undefined;
    try {
      conf = readFileSync(this.opts.auditdConf ?? AUDITD_CONF, 'utf8');
    } catch {
      conf = undefined; // auditd's defaults
    }
    const file = auditdLogFile(conf);
    if (!file) throw new UnsupportedError('auditd is configured not to write a log (write_logs = no); give its log with --audit-log, or read the kernel log (--mode kmsg) with auditd stopped');
    return file;
  }

  private async open(mode: AuditMode, fromStart: boolean): Promise<void> {
    const log = this.opts.logger;
    this.mode = mode;
    if (mode === 'auditd') {
      this.file = this.logFile();
      this.handler.source = this.file;
      this.follower = new FileFollower({
        path: this.file,
        fromStart,
        pollMs: this.opts.pollMs,
        maxLineBytes: this.opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
        onLine: (line) => this.handler.line(line),
        onRotate: () => log?.info({ file: this.file }, 'audit log rotated; following the new file'),
        onTruncate: () => this.loss.noteTruncation(this.file!),
        onError: (err) => this.warn(`cannot read ${this.file}: ${err.message}`),
      });
      await this.follower.start();
    } else {
      this.file = undefined;
      this.handler.source = this.opts.kmsgPath ?? KMSG_PATH;
      this.kmsg = new KmsgReader({
        path: this.opts.kmsgPath,
        fromStart,
        pollMs: this.opts.pollMs,
        onRecord: (line, at) => this.handler.kernelLine(line, at),
        onOverwritten: (count) => this.loss.noteKmsgOverwritten(count),
        onError: (err) => this.warn(`cannot read the kernel log: ${err.message}`),
      });
      try {
        this.kmsg.start();
      } catch (err) {
        this.kmsg = undefined;
        throw new UnsupportedError(`cannot read the kernel log ${this.opts.kmsgPath ?? KMSG_PATH} (root or CAP_SYSLOG needed)`, [(err as Error).message], err);
      }
      const limit = printkRateLimit();
      if (limit && limit.intervalSeconds > 0)
        this.warn(
          `the kernel log passes only ${limit.burst} messages every ${limit.intervalSeconds} s (kernel.printk_ratelimit): audit records beyond that are dropped, ` +
            'and show up as serial gaps only once later records arrive. Run auditd, or `sysctl -w kernel.printk_ratelimit=0` while recording',
        );
    }
    log?.info({ mode, file: this.file }, 'audit source reading');
  }

  private async close(): Promise<void> {
    if (this.follower) {
      await this.follower.stop();
      this.followedBefore = this.follower.stats;
    }
    this.follower = undefined;
    this.kmsg?.stop();
    this.kmsg = undefined;
  }

  private warn(msg: string): void {
    this.opts.logger?.warn({ component: 'audit' }, msg);
    this.emit('warning', msg);
  }

  private async readStatus(): Promise<AuditStatus | undefined> {
    if (this.opts.statusPollMs === 0) return undefined;
    const r = await readAuditStatus(this.opts.auditctl);
    if (r.ok) return r.status;
    if (this.statusUnavailable === undefined) this.warn(`the kernel's audit lost counter cannot be read (${r.reason}); loss is detected from the records alone`);
    this.statusUnavailable = r.reason;
    return undefined;
  }

  private scheduleStatus(): void {
    const every = this.opts.statusPollMs ?? 5000;
    if (this.stopped || every === 0) return;
    this.statusTimer = setTimeout(() => {
      this.statusRunning = this.pollStatus().finally(() => this.scheduleStatus());
    }, every);
  }

  private async pollStatus(): Promise<void> {
    this.loss.settleOlderThan(Date.now());
    const status = await this.readStatus();
    if (!status || this.stopped) return;
    this.loss.noteStatusLost(status.lost);
    const consumer: AuditMode = status.pid > 0 ? 'auditd' : 'kmsg';
    if (consumer === this.mode) return;
    // The kernel now writes somewhere else: records in between may be in the other place, not read by us.
    this.counts.consumerChanges++;
    const msg = consumer === 'auditd' ? `an audit daemon (pid ${status.pid}) registered: records now go to its log` : 'the audit daemon went away: records now go to the kernel log';
    if ((this.opts.mode ?? 'auto') !== 'auto') {
      this.warn(`${msg}, but this source was told to read ${this.mode === 'auditd' ? "auditd's log" : 'the kernel log'} only`);
      this.loss.noteDamaged(`${msg} while this source read the other one`);
      return;
    }
    this.warn(`${msg}; switching`);
    await this.close();
    this.loss.endSegment();
    if (!this.stopped) await this.open(consumer, false);
  }

  private onRecord(r: SeccompRecord): void {
    const n = this.namer.name(r.auditArch, r.nr);
    const attribution = this.attributor.attribute(r.pid);
    if (attribution.status === 'container') this.counts.inContainer++;
    else if (attribution.status === 'host') this.counts.onHost++;
    else this.counts.unattributed++;
    const phase = isRuntimeComm(r.comm) ? 'runtime' : 'workload';
    const o: AuditObservation = { time: r.time, pid: r.pid, auditArch: r.auditArch, nr: r.nr, action: r.action, code: r.code, phase, attribution };
    if (r.uid !== undefined) o.uid = r.uid;
    if (r.comm !== undefined) o.comm = r.comm;
    if (r.exe !== undefined) o.exe = r.exe;
    if (n.arch) o.arch = n.arch;
    if (n.syscall) o.syscall = n.syscall;
    if (r.action === 'log') {
      this.counts.observations++;
      this.emit('observation', o);
    } else {
      this.counts.denials++;
      this.emit('denial', o);
    }
  }
}
