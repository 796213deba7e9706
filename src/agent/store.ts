// The agent's durable state under --state-dir: `state.json` (a compacted
// snapshot, generation G) plus `journal.log` (records since snapshot G).
// Records are applied in memory at once and made durable in batches by
// flush(); compaction writes snapshot G+1, then a fresh journal G+1, each
// atomically, so a crash between the two leaves a stale journal that the next
// start recognises by its generation and ignores. The snapshot is serialized
// in slices and streamed into its temp file while records keep arriving and
// being applied (snapshot-cut.ts says why slices, and how the cut stays the
// state of one instant); until snapshot G+1 is renamed in place, a crash
// leaves snapshot G and journal G untouched. One agent per directory:
// `agent.pid` is flock'ed for the agent's life (takeLock).
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { InputError, UsageError } from '../errors.js';
import { AgentState } from './aggregate.js';
import { encodeLine, JOURNAL_VERSION, JournalWriter, parseJournal } from './journal.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { nativeAddon } from '../record/native.js';
import type { JournalRecord } from './records.js';
import { recordProblem } from './records.js';
import type { StepHook } from './snapshot-cut.js';
import { SnapshotCut } from './snapshot-cut.js';

export const SNAPSHOT_FILE = 'state.json';
export const JOURNAL_FILE = 'journal.log';
export const LOCK_FILE = 'agent.pid';
/** Compact once the journal passes this size. */
export const DEFAULT_COMPACT_BYTES = 16 * 1024 * 1024;

export interface StoreOptions {
  compactBytes?: number;
  /** Called at each step of a compaction and awaited: fault tests stop the process there to kill it. */
  onCompactionStep?: StepHook;
}

/**
 * Holds the state directory for this process's life: flock(LOCK_EX|LOCK_NB)
 * on `agent.pid`, which the kernel releases when the process dies however it
 * dies, so neither a stale pid (reused by another process) nor two agents
 * starting together can fool it. The file also names the holder for the
 * message; it is written in place, never renamed over (its inode is the lock),
 * and never unlinked (a waiter could lock the unlinked inode).
 */
async function takeLock(dir: string): Promise<number> {
  const path = join(dir, LOCK_FILE);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
  } catch (err) {
    throw new UsageError(`cannot open the state directory's lock ${path}: ${(err as Error).message}`);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new UsageError(`${path} is not a regular file; it is the agent's lock, remove it`);
    if (!nativeAddon().flockExclusive(fd)) {
      const holder = await holderPid(path);
      throw new UsageError(
        `another agent (pid ${holder ?? 'unknown'}) is using ${dir}: it holds ${path}; stop it first, or give this one its own --state-dir`,
      );
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`, 0);
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** The pid the lock's holder wrote; it writes it just after locking, so wait a moment for it. */
async function holderPid(path: string): Promise<number | undefined> {
  const end = Date.now() + 2000;
  for (;;) {
    const pid = Number(readFileSync(path, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0) return pid;
    if (Date.now() > end) return undefined;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The atomic writer's temp files of our two files (`.state.json.HEX.tmp`): a crash mid-write leaves one. */
const OUR_TEMP = /^\.(state\.json|journal\.log)\.[0-9a-f]{16}\.tmp$/;

/** Under the lock nobody else writes here: a temp file of ours is a dead agent's, taking space on the state's disk. */
async function removeLeftoverTemps(dir: string, log: Logger): Promise<void> {
  for (const name of await readdir(dir)) {
    if (!OUR_TEMP.test(name)) continue;
    await unlink(join(dir, name)).catch(() => undefined);
    log.info({ file: join(dir, name) }, 'removed a temp file an interrupted write left behind');
  }
}

export class RecordingStore {
  private pending: string[] = [];
  private oldestPendingAt: number | undefined;
  /** Records taken out of `pending` by the write in progress (journal or snapshot), durable only when it ends. */
  private inFlight = 0;
  private inFlightSince: number | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** A compaction wrote its snapshot but not its fresh journal: the open one is stale. */
  private journalStale = false;
  /** The compaction being written, which must see each record before it is applied. */
  private cut: SnapshotCut | undefined;

  private constructor(
    readonly dir: string,
    readonly state: AgentState,
    private generation: number,
    private journal: JournalWriter,
    private readonly lockFd: number,
    private readonly log: Logger,
    private readonly compactBytes: number,
    private readonly onStep: StepHook | undefined,
  ) {}

  static async open(dir: string, log: Logger, opts: StoreOptions = {}): Promise<RecordingStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const lockFd = await takeLock(dir);
    try {
      return await RecordingStore.openLocked(dir, lockFd, log, opts);
    } catch (err) {
      closeSync(lockFd);
      throw err;
    }
  }

  private static async openLocked(dir: string, lockFd: number, log: Logger, opts: StoreOptions): Promise<RecordingStore> {
    await removeLeftoverTemps(dir, log);
    const snapshotPath = join(dir, SNAPSHOT_FILE);
    const journalPath = join(dir, JOURNAL_FILE);

    let state = new AgentState();
    let generation = 0;
    let snapshotLost = false;
    const text = await readFile(snapshotPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw new InputError(snapshotPath, [`cannot read: ${err.message}`], err);
    });
    if (text !== undefined) {
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch {
        doc = undefined;
      }
      const version = (doc as { version?: unknown } | undefined)?.version;
      if (typeof version === 'number' && version > 1)
        throw new InputError(snapshotPath, [`written by a newer agent (state version ${version}); upgrade seccomp-recorder or use another --state-dir`]);
      try {
        ({ state, generation } = AgentState.fromSnapshot(doc, snapshotPath));
      } catch (err) {
        // Written atomically, so this is damage from outside. Keep the file for a human; go on with the journal.
        const aside = `${snapshotPath}.corrupt-${Date.now()}`;
        await rename(snapshotPath, aside);
        snapshotLost = true;
        log.error({ file: snapshotPath, movedTo: aside, reason: (err as Error).message }, 'unreadable state snapshot moved aside; starting from the journal alone');
      }
    }

    const buf = await readFile(journalPath).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw new InputError(journalPath, [`cannot read: ${err.message}`], err);
    });
    let journal: JournalWriter | undefined;
    if (buf) {
      const parsed = parseJournal(buf);
      if (parsed.header && parsed.header.version !== JOURNAL_VERSION)
        throw new InputError(journalPath, [`journal version ${parsed.header.version} is not one this agent reads (${JOURNAL_VERSION}); upgrade seccomp-recorder or use another --state-dir`]);
      if (parsed.problem) {
        log.warn(
          { file: journalPath, line: parsed.badLine, reason: parsed.problem, keptBytes: parsed.validBytes, droppedBytes: parsed.totalBytes - parsed.validBytes },
          'journal tail is corrupt or torn; truncating it',
        );
      }
      const g = parsed.header?.generation;
      if (g !== undefined && (g === generation || snapshotLost || g > generation)) {
        if (g > generation && !snapshotLost) log.warn({ file: journalPath, journalGeneration: g, snapshotGeneration: generation }, 'journal is newer than the snapshot; replaying it');
        let skipped = 0;
        for (const r of parsed.records) {
          if (recordProblem(r)) skipped++;
          else state.apply(r as JournalRecord);
        }
        if (skipped) log.warn({ file: journalPath, skipped }, 'journal records of an unknown shape were skipped');
        generation = Math.max(generation, g);
        if (parsed.header) journal = await JournalWriter.reopen(journalPath, parsed.validBytes);
      } else if (g !== undefined) {
        log.info({ file: journalPath, journalGeneration: g, snapshotGeneration: generation }, 'journal predates the snapshot (compaction was interrupted); its records are in the snapshot');
      }
    }
    journal ??= await JournalWriter.create(journalPath, generation);
    const store = new RecordingStore(dir, state, generation, journal, lockFd, log, opts.compactBytes ?? DEFAULT_COMPACT_BYTES, opts.onCompactionStep);
    // Start from a clean pair: the truncation above and any replay become the new snapshot.
    await store.compact();
    return store;
  }

  /** Applies the record now; it becomes durable with the next flush(). */
  record(r: JournalRecord): void {
    if (this.closed) return;
    this.cut?.beforeApply(r);
    this.state.apply(r);
    this.pending.push(encodeLine(r));
    this.oldestPendingAt ??= Date.now();
  }

  /** Records not yet durable, and how long the oldest has waited. */
  lag(now = Date.now()): { pending: number; seconds: number } {
    // A write in progress still counts: a compaction written in slices lets the API answer while it runs.
    const oldest = [this.oldestPendingAt, this.inFlightSince].filter((t): t is number => t !== undefined);
    return { pending: this.pending.length + this.inFlight, seconds: oldest.length ? (now - Math.min(...oldest)) / 1000 : 0 };
  }

  get journalBytes(): number {
    return this.journal.size;
  }

  private serial(job: () => Promise<void>): Promise<void> {
    const run = this.chain.then(job);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Writes and fdatasyncs every pending record (one write, one sync). */
  flush(): Promise<void> {
    return this.serial(async () => {
      if (this.journalStale) await this.compactNow();
      if (!this.pending.length) return;
      const lines = this.pending;
      const since = this.oldestPendingAt;
      this.pending = [];
      this.oldestPendingAt = undefined;
      this.takeInFlight(lines.length, since);
      try {
        await this.journal.writeDurably(lines);
      } catch (err) {
        // Keep them, in order, for the next flush; the journal lag metric shows the backlog.
        this.pending = lines.concat(this.pending);
        this.oldestPendingAt = since;
        throw err;
      } finally {
        this.takeInFlight(0, undefined);
      }
      if (this.journal.size > this.compactBytes) await this.compactNow();
    });
  }

  private takeInFlight(count: number, since: number | undefined): void {
    this.inFlight = count;
    this.inFlightSince = since;
  }

  compact(): Promise<void> {
    return this.serial(() => this.compactNow());
  }

  private async compactNow(): Promise<void> {
    // Everything applied so far, pending records included, goes into the snapshot; later records into journal G+1.
    const next = this.generation + 1;
    const cut = new SnapshotCut(this.state, next, this.onStep);
    const pending = this.pending;
    const since = this.oldestPendingAt;
    this.pending = [];
    this.oldestPendingAt = undefined;
    this.cut = cut;
    this.takeInFlight(pending.length, since);
    try {
      await this.onStep?.('cut');
      await writeFileAtomic(join(this.dir, SNAPSHOT_FILE), cut.chunks(), { mode: 0o600, follow: false });
    } catch (err) {
      this.pending = pending.concat(this.pending);
      this.oldestPendingAt = since ?? this.oldestPendingAt;
      throw err;
    } finally {
      this.cut = undefined;
      this.takeInFlight(0, undefined);
    }
    this.generation = next;
    this.journalStale = true;
    await this.onStep?.('snapshot');
    const old = this.journal;
    this.journal = await JournalWriter.create(join(this.dir, JOURNAL_FILE), next);
    this.journalStale = false;
    await old.close();
    await this.onStep?.('journal');
    this.log.debug({ generation: next, bytes: cut.bytes }, 'state compacted');
  }

  /**
   * Lets go as a crash would: nothing more is flushed or compacted, the
   * journal and the lock are closed. For a test standing in for kill -9
   * inside one process.
   */
  async abandon(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain;
    await this.journal.close();
    closeSync(this.lockFd);
  }

  /** Final flush and compaction; releases the state directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush().catch((err: Error) => this.log.error({ reason: err.message }, 'final journal flush failed'));
    await this.compact().catch((err: Error) => this.log.error({ reason: err.message }, 'final compaction failed'));
    this.closed = true;
    await this.chain;
    await this.journal.close();
    closeSync(this.lockFd);
  }
}
