// The agent's state as it was at one instant, serialized in slices so that a
// compaction never holds the event loop for long (the API, metrics, flushes
// and new containers' naming wait while it is held). Why slices and not a
// worker thread: the state lives on the main thread, and handing it to a
// worker (structured clone) is itself one synchronous copy of the whole state,
// as long as the serialization it would spare; a mirror of the state kept in
// the worker would double its memory and send every record across threads.
//
// The cut is copy-on-write, per image and per runtime: the store calls
// beforeApply(r) before applying a record that arrives while the cut is being
// written, and whatever that record is about to change is serialized first, as
// it was at the cut. Images and runtimes that appear after the cut are not in
// it. So the snapshot holds exactly the records applied before the cut, and
// the records after it go to the next journal, as when it was built at once.
// The unit of a slice is one image or runtime (bounded: one entry per syscall
// and arch, at most MAX_ARG_TUPLES argument tuples each).
import { setImmediate as yieldLoop } from 'node:timers/promises';
import type { AgentState, ImageAgg, RuntimeAgg } from './aggregate.js';
import { imageEntry, runtimeEntry, snapshotHead, snapshotOrder, touchedBy } from './aggregate.js';
import type { JournalRecord } from './records.js';

/** How long one slice of serialization may hold the event loop before it yields. */
export const SLICE_MS = 8;
/** About how many characters of snapshot text are handed to the writer at once. */
export const CHUNK_CHARS = 256 * 1024;

/** Where a compaction is; a fault test stops a process at each of these to kill it there. */
export type CompactionStep =
  /** The state is cut; nothing is written yet. */
  | 'cut'
  /** Serialization yielded the event loop between two slices (a pause, or a chunk's write). */
  | 'slice'
  /** A chunk of the snapshot is in its temp file. */
  | 'chunk'
  /** Snapshot G+1 is in place; the journal is still G's. */
  | 'snapshot'
  /** Journal G+1 is in place. */
  | 'journal';

export type StepHook = (step: CompactionStep) => void | Promise<void>;

/** One side of the cut (images or runtimes): the names present at the cut, and what has been serialized of them. */
class Side<T> {
  private readonly order: string[];
  /** Names at the cut whose turn has not come, with their place in the order. */
  private readonly waiting = new Map<string, number>();
  /** Entries serialized ahead of their turn, because a record was about to change them. */
  private readonly early = new Map<string, string>();
  private next = 0;

  constructor(
    private readonly live: Map<string, T>,
    private readonly entry: (value: T) => Record<string, unknown>,
  ) {
    this.order = snapshotOrder(live);
    this.order.forEach((name, i) => this.waiting.set(name, i));
  }

  /** Serializes `name` now, if it was there at the cut, its turn has not come and it was not kept already. */
  preserve(name: string): void {
    if (!this.waiting.has(name) || this.early.has(name)) return;
    this.early.set(name, JSON.stringify(this.entry(this.live.get(name)!)));
  }

  get done(): boolean {
    return this.next >= this.order.length;
  }

  /** The next entry's text, as it was at the cut. */
  take(): string {
    const name = this.order[this.next++];
    const text = this.early.get(name) ?? JSON.stringify(this.entry(this.live.get(name)!));
    this.early.delete(name);
    this.waiting.delete(name);
    return text;
  }
}

export class SnapshotCut {
  private readonly images: Side<ImageAgg>;
  private readonly runtimes: Side<RuntimeAgg>;
  private buffer = '';
  private sliceStart = 0;
  /** Bytes of snapshot text produced so far. */
  bytes = 0;

  constructor(
    state: AgentState,
    readonly generation: number,
    private readonly onStep?: StepHook,
  ) {
    this.images = new Side(state.images, imageEntry);
    this.runtimes = new Side(state.runtimes, runtimeEntry);
  }

  /** Call before applying a record while the cut is written: what it changes is kept as it is now. */
  beforeApply(r: JournalRecord): void {
    const { image, runtime } = touchedBy(r);
    this.images.preserve(image);
    if (runtime !== undefined) this.runtimes.preserve(runtime);
  }

  /** The snapshot's text (JSON.stringify(state.toSnapshot(generation)) and a newline, at the cut), in chunks. */
  async *chunks(): AsyncGenerator<string> {
    const head = JSON.stringify(snapshotHead(this.generation));
    this.buffer = `${head.slice(0, -1)},"images":[`;
    this.sliceStart = performance.now();
    yield* this.side(this.images, '],"runtimes":[');
    yield* this.side(this.runtimes, ']}\n');
    yield* this.flushBuffer();
  }

  private async *side<T>(side: Side<T>, close: string): AsyncGenerator<string> {
    for (let first = true; !side.done; first = false) {
      this.buffer += (first ? '' : ',') + side.take();
      if (this.buffer.length >= CHUNK_CHARS) {
        yield* this.flushBuffer();
      } else if (performance.now() - this.sliceStart >= SLICE_MS) {
        await yieldLoop();
        await this.onStep?.('slice');
        this.sliceStart = performance.now();
      }
    }
    this.buffer += close;
  }

  /** Hands the buffer to the writer; its write yields the event loop. */
  private async *flushBuffer(): AsyncGenerator<string> {
    const chunk = this.buffer;
    this.buffer = '';
    this.bytes += Buffer.byteLength(chunk);
    yield chunk;
    await this.onStep?.('chunk');
    await this.onStep?.('slice');
    this.sliceStart = performance.now();
  }
}
