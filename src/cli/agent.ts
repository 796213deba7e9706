// `seccomp-recorder agent [--source auto|bpf|notify|audit] [--state-dir DIR] [--socket PATH] [--api-socket PATH] [--drain-timeout 25s]`
import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { DEFAULT_API_SOCKET } from '../agent/client.js';
import { Agent } from '../agent/daemon.js';
import { DEFAULT_RUNTIME_SOCKET } from '../agent/recording-profile.js';
import type { CommonOptions } from './common.js';
import { reportError, withCommonOptions } from './common.js';
import { createLogger } from './logging.js';

export const DEFAULT_STATE_DIR = '/var/lib/seccomp-recorder';
/** How long SIGTERM keeps live containers served (a DaemonSet's grace period must exceed it). */
export const DEFAULT_DRAIN_TIMEOUT = '25s';

interface AgentCliOptions extends CommonOptions {
  stateDir: string;
  socket: string;
  apiSocket: string;
  drainTimeout: string;
  batchInterval: string;
  podman: string;
  podmanTimeout: string;
  source: string;
  auditLog?: string;
  auditMode: 'auto' | 'auditd' | 'kmsg';
  bpfGrace: string;
  baselineDir?: string;
  apiReaderUid?: string;
  apiReaderGid?: string;
  compactBytes?: string;
}

function parseId(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,10}$/.test(text) || Number(text) > 0xfffffffe) throw new UsageError(`${option}: expected a numeric id, got "${text}"`);
  if (Number(text) === 0) throw new UsageError(`${option} 0 is root, which has full access already`);
  return Number(text);
}

/** `25s`, `2m`, `500ms`, `1h`, or a plain number of seconds -> milliseconds. */
export function parseDuration(text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${option}: not a duration: "${text}" (use e.g. 500ms, 30s, 2m)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}

async function runAgent(cmd: Command, opts: AgentCliOptions): Promise<number> {
  let agent: Agent | undefined;
  try {
    // A daemon logs JSON lines at info unless told otherwise.
    const level = cmd.getOptionValueSource('logLevel') === 'default' ? (opts.debug ? 'debug' : 'info') : opts.logLevel;
    const format = cmd.getOptionValueSource('logFormat') === 'default' ? 'json' : opts.logFormat;
    const log = createLogger(level, format);
    const drainTimeoutMs = parseDuration(opts.drainTimeout, '--drain-timeout');
    const batchIntervalMs = parseDuration(opts.batchInterval, '--batch-interval');
    if (batchIntervalMs < 10 || batchIntervalMs > 1000) throw new UsageError('--batch-interval must be from 10ms to 1s (observations are fsync\'d at least once a second)');
    const compactBytes = opts.compactBytes === undefined ? undefined : Number(opts.compactBytes);
    if (compactBytes !== undefined && (!/^\d{1,12}$/.test(opts.compactBytes!) || compactBytes < 1))
      throw new UsageError(`--compact-bytes: expected a positive number of bytes, got "${opts.compactBytes}"`);
    const podmanTimeoutMs = parseDuration(opts.podmanTimeout, '--podman-timeout');
    const given = (name: string) => cmd.getOptionValueSource(name) === 'cli';
    if (opts.source !== 'audit' && (given('auditLog') || given('auditMode'))) throw new UsageError('--audit-log and --audit-mode apply to --source audit');
    if (opts.source !== 'bpf' && opts.source !== 'auto' && given('bpfGrace')) throw new UsageError('--bpf-grace applies to --source bpf (or auto)');
    const bpfGraceMs = parseDuration(opts.bpfGrace, '--bpf-grace');
    const readerUid = parseId(opts.apiReaderUid, '--api-reader-uid');
    const readerGid = parseId(opts.apiReaderGid, '--api-reader-gid');
    if (opts.auditLog && opts.auditMode === 'kmsg') throw new UsageError('--audit-log is auditd\'s log: it does not apply to --audit-mode kmsg');

    // Installed before start: a SIGTERM during start-up drains as soon as there is something to drain.
    let stopping: string | undefined;
    const onStop = (sig: NodeJS.Signals) => {
      if (agent) void agent.shutdown(sig);
      else stopping ??= sig;
    };
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
    // A terminal hang-up must not take the recorded containers down with the agent.
    process.on('SIGHUP', () => log.warn({ signal: 'SIGHUP' }, 'ignored; SIGTERM drains and stops the agent'));
    // Dying would fail every recorded container's notified calls (ENOSYS) and hang runc's new ones:
    // a bug in one request is logged, and the native threads keep answering.
    const internal = (err: unknown) => log.error({ reason: (err as Error)?.stack ?? String(err) }, 'internal error; the agent keeps serving containers');
    process.on('uncaughtException', internal);
    process.on('unhandledRejection', internal);

    agent = await Agent.start({
      stateDir: opts.stateDir,
      socketPath: opts.socket,
      apiSocketPath: opts.apiSocket,
      drainTimeoutMs,
      batchIntervalMs,
      log,
      ...(compactBytes !== undefined ? { compactBytes } : {}),
      podman: { binary: opts.podman, timeoutMs: podmanTimeoutMs },
      source: opts.source,
      audit: { mode: opts.auditMode, ...(opts.auditLog ? { auditLog: opts.auditLog } : {}) },
      bpf: { graceMs: bpfGraceMs },
      ...(opts.baselineDir !== undefined ? { baselineDir: opts.baselineDir } : {}),
      apiAccess: { ...(readerUid !== undefined ? { readerUid } : {}), ...(readerGid !== undefined ? { readerGid } : {}) },
    });
    if (stopping) void agent.shutdown(stopping);
    await agent.done;
    // Everything is closed; do not let a stray handle keep a stopped agent around.
    setTimeout(() => process.exit(0), 2000).unref();
    return 0;
  } catch (err) {
    return reportError(err, opts.debug === true);
  }
}

export function agentCommandSpec(): Command {
  const cmd = new Command('agent')
    .summary('record the syscalls of the containers on this node, per image (run as root)')
    .description(
      'Records what each image calls, journaled under --state-dir; `seccomp-recorder recordings ...` reads it through\n' +
        'the API on --api-socket. Sources (--source):\n' +
        '  bpf     every container, no profile change: eBPF on sys_enter, keyed by cgroup v2; the agent dying or\n' +
        '          being killed never touches a container (needs root and a kernel that loads the programs)\n' +
        '  notify  containers run under the profile `seccomp-recorder recording-profile` prints: the runtime hands\n' +
        '          their listeners to --socket; if the agent dies, their notified syscalls fail with ENOSYS\n' +
        '  audit   containers run under `recording-profile --mode log` (SCMP_ACT_LOG); audit records from auditd\'s log\n' +
        '          or the kernel log (fail-open; records can be lost under load)\n' +
        '  auto    (default) bpf where it works, notify otherwise (the reason is logged)\n' +
        'SIGTERM/SIGINT stop the agent (notify: live containers are served until they exit or --drain-timeout passes).',
    )
    .addOption(new Option('--source <source>', 'bpf, notify, audit, or auto (bpf where it works, else notify)').choices(['auto', 'bpf', 'notify', 'audit']).default('auto'))
    .option('--bpf-grace <duration>', 'bpf source: how long a new cgroup may stay unknown before it is taken for the node\'s own and ignored', '3s')
    .option('--audit-log <file>', 'audit source: auditd\'s log (default: log_file of /etc/audit/auditd.conf)')
    .addOption(new Option('--audit-mode <mode>', 'audit source: auditd\'s log, the kernel log, or auto (auditd when one is registered)').choices(['auto', 'auditd', 'kmsg']).default('auto'))
    .option('--state-dir <dir>', 'where the journal and snapshot live', DEFAULT_STATE_DIR)
    .option('--socket <path>', 'runtime socket (the recording profile\'s listenerPath)', DEFAULT_RUNTIME_SOCKET)
    .option('--api-socket <path>', 'HTTP API socket (root-only)', DEFAULT_API_SOCKET)
    .option('--api-reader-uid <uid>', 'besides root, this uid may GET /healthz, /metrics, the list and show (a metrics scraper); checked with SO_PEERCRED')
    .option('--api-reader-gid <gid>', 'as --api-reader-uid, for peers whose primary gid is this')
    .option('--baseline-dir <dir>', 'baselines `recordings profile --baseline NAME` may name: the files of this directory, read once at start')
    .option('--drain-timeout <duration>', 'on SIGTERM, how long to keep serving live containers', DEFAULT_DRAIN_TIMEOUT)
    .option('--compact-bytes <n>', 'compact the journal into the snapshot once it passes this many bytes (default 16 MiB)')
    .option('--batch-interval <duration>', 'how often observations are drained and fsync\'d (<= 1s)', '1s')
    .option('--podman <path>', 'podman binary used to name the images of podman containers', 'podman')
    .option('--podman-timeout <duration>', 'time limit of one `podman inspect`', '3s')
    .action(async (opts: AgentCliOptions, command: Command) => {
      process.exitCode = await runAgent(command, opts);
    });
  return withCommonOptions(cmd);
}
