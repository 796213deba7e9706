// Runs a command under the launcher: installs a filter (with a user-notify
// listener when asked), lets the native session answer and count the
// notifications, forwards signals, and returns one result shape for success
// and failure. Blocking waits stay off the event loop (native thread + events).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { ExecError, NativeError } from '../errors.js';
import { errnoMessage, errnoName } from '../util/errno.js';
import type { RawEntry, SessionHandle, SessionInfo } from './native.js';
import { launcherPath, nativeAddon } from './native.js';
import type { ResolvedWatch } from './watches.js';
import { watchArray } from './watches.js';

export interface LaunchOptions {
  command: string[];
  /** A raw BPF program file to install instead of "notify on everything". */
  bpfFile?: string;
  /** Extra SECCOMP_FILTER_FLAG_* bits for seccomp(2) (the profile's LOG, SPEC_ALLOW...). */
  seccompFlags?: number;
  /** Request a listener and serve it. */
  listener: boolean;
  /** false: install no seccomp filter at all (the bpf source records from outside). */
  filter?: boolean;
  /** Move into this cgroup (v2 directory) right before the exec. */
  cgroupDir?: string;
  watches?: ResolvedWatch[];
  syncWakeup?: boolean;
  /** Record the executable of each syscall's first caller (entries' firstExe). */
  captureExe?: boolean;
  logger: Logger;
  /** Called when the command itself exited but descendants still hold the filter. */
  onWaitingForDescendants?: () => void;
}

export interface LaunchResult {
  exitCode: number;
  signal: NodeJS.Signals | null;
  startedAt: Date;
  endedAt: Date;
  durationMs: number;
  entries: RawEntry[];
  session?: SessionInfo;
  /** True when the wait for surviving descendants was cut short by a signal. */
  stoppedEarly: boolean;
}

interface StatusLine {
  level: string;
  event: string;
  msg: string;
  errno: number;
  value: number;
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/**
 * Whether a terminal's Ctrl-C already reached the child: we are in the
 * terminal's foreground process group, and the child shares our group.
 */
function terminalDeliversToChild(): boolean {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(fields[2]);
    const tpgid = Number(fields[5]);
    return tpgid > 0 && tpgid === pgrp;
  } catch {
    return false;
  }
}

export function launch(opts: LaunchOptions): Promise<LaunchResult> {
  const native = opts.listener ? nativeAddon() : undefined;
  const args = ['--status-fd', '3'];
  if (opts.bpfFile) args.push('--bpf', opts.bpfFile);
  if (opts.listener) args.push('--listener');
  if (opts.seccompFlags) args.push('--flags', String(opts.seccompFlags));
  if (opts.filter === false) args.push('--no-filter');
  if (opts.cgroupDir) args.push('--cgroup', opts.cgroupDir);
  args.push('--', ...opts.command);
  const log = opts.logger;
  const startedAt = new Date();
  const t0 = process.hrtime.bigint();

  return new Promise<LaunchResult>((resolve, reject) => {
    const child = spawn(launcherPath(), args, { stdio: ['inherit', 'inherit', 'inherit', 'pipe'] });
    const childLog = log.child({ component: 'launcher', pid: child.pid });
    let handle: SessionHandle | undefined;
    let session: SessionInfo | undefined;
    let sessionEnded = !opts.listener;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let failure: Error | undefined;
    let stoppedEarly = false;
    let statusClosed = false;
    let waitingTimer: NodeJS.Timeout | undefined;
    let entries: RawEntry[] = [];

    const onSignal = (sig: NodeJS.Signals) => {
      if (exit) {
        // The command is gone; a signal now means "stop waiting for its descendants".
        if (handle && !sessionEnded) {
          stoppedEarly = true;
          native!.stop(handle);
        }
        return;
      }
      if (sig === 'SIGINT' && terminalDeliversToChild()) return;
      childLog.debug({ signal: sig }, 'forwarding signal');
      child.kill(sig);
    };
    for (const s of FORWARDED) process.on(s, onSignal);

    const finish = () => {
      if (!exit || !sessionEnded || !statusClosed) return;
      if (waitingTimer) clearTimeout(waitingTimer);
      for (const s of FORWARDED) process.off(s, onSignal);
      if (handle) {
        const drained = native!.drain(handle, false);
        entries = drained.entries;
        session = drained.info;
        native!.destroy(handle);
      }
      if (failure) return reject(failure);
      const endedAt = new Date();
      const signalNumber = exit.signal ? osConstants.signals[exit.signal] : 0;
      resolve({
        exitCode: exit.code ?? 128 + signalNumber,
        signal: exit.signal,
        startedAt,
        endedAt,
        durationMs: Number(process.hrtime.bigint() - t0) / 1e6,
        entries,
        session,
        stoppedEarly,
      });
    };

    child.on('error', (err) => {
      failure = new NativeError(`cannot start the launcher: ${err.message}`, 0, err);
      exit = { code: 125, signal: null };
      sessionEnded = true;
      statusClosed = true;
      finish();
    });

    const status = createInterface({ input: child.stdio[3] as NodeJS.ReadableStream });
    status.on('line', (text) => {
      let line: StatusLine;
      try {
        line = JSON.parse(text) as StatusLine;
      } catch {
        childLog.warn({ line: text }, 'unreadable status line from the launcher');
        return;
      }
      if (line.event === 'installing' && opts.listener && line.value >= 0) {
        try {
          handle = native!.start(
            { pid: child.pid!, targetFd: line.value, watches: watchArray(opts.watches), syncWakeup: opts.syncWakeup === false ? 0 : 1, captureExe: opts.captureExe ? 1 : 0 },
            (info) => {
              session = info;
              sessionEnded = true;
              childLog.debug({ session: info }, 'notify session ended');
              if (info.reason === 'error') failure ??= new NativeError(`the notify loop failed: ${errnoName(info.errno)}`, info.errno);
              if (info.reason === 'attach-timeout') failure ??= new NativeError('the launcher never installed its filter (timed out)');
              finish();
            },
          );
        } catch (err) {
          failure = new NativeError(`cannot supervise the command: ${(err as Error).message}`, 0, err);
          sessionEnded = true;
          child.kill('SIGKILL');
        }
        return;
      }
      if (line.level === 'error') {
        const cmd = opts.command[0];
        if (line.event === 'exec') {
          const code = line.errno === osConstants.errno.ENOENT ? 127 : 126;
          failure ??= new ExecError(`cannot execute ${cmd}: ${errnoMessage(line.errno)}`, line.errno, code);
        } else {
          failure ??= new NativeError(`${line.msg}: ${errnoMessage(line.errno)}${line.errno === osConstants.errno.EINVAL ? ' (does this kernel support seccomp user-notify?)' : ''}`, line.errno);
        }
        return;
      }
      childLog[line.level === 'warn' ? 'warn' : 'debug']({ event: line.event }, line.msg);
    });

    child.on('exit', (code, signal) => {
      exit = { code, signal };
      if (!sessionEnded && !failure) {
        waitingTimer = setTimeout(() => opts.onWaitingForDescendants?.(), 1000);
      }
      finish();
    });
    status.on('close', () => {
      statusClosed = true;
      // No session was started (the launcher failed before announcing a listener): nothing else ends us.
      if (!handle) sessionEnded = true;
      finish();
    });
  });
}
