import { SimulationError, invariant } from '../engine/errors.js';
import type { Random } from '../engine/random.js';
import type { EventId, EventTarget, Simulator } from '../engine/simulator.js';
import { MAX_TIME_US, msToUs, type DurationUs, type TimeUs } from '../engine/time.js';
import { LatencyModel, type LatencySpec } from './latency.js';

/**
 * Simulated disks with a page cache.
 *
 * A file is a sequence of chunks, one per write, not raw bytes: the Kafka layer writes record
 * batches as objects, so durability and damage are tracked per chunk (a torn chunk was partially
 * written; a corrupt chunk fails its checksum, as Kafka's CRC check on a batch would).
 *
 * Every file has two views, because DESIGN.md rule 3 ("crash semantics are physical") hinges on
 * the difference between them:
 * - the page cache, what the OS shows processes. A process crash (`kill -9`) keeps it: the kernel
 *   still holds the dirty pages and writes them back later.
 * - the durable content, what survives power loss. An fsync moves data there at once; Kafka by
 *   default never fsyncs (`log.flush.interval.messages` = Long.MAX), relying on replication
 *   instead, so for Kafka's log the only other way in matters: the kernel's background writeback.
 *
 * Background writeback (Linux's flusher threads). Dirty data does not stay dirty for ever: the
 * kernel writes back pages that have been dirty for `vm.dirty_expire_centisecs` (default 30 s),
 * checking every `vm.dirty_writeback_centisecs` (default 5 s). So a power loss loses roughly the
 * last 30-35 s of unsynced writes, not whole files written hours ago. The model:
 * - Every chunk remembers when it landed in the page cache. A writeback tick fires at
 *   t0 + k × `writebackIntervalMs` (k ≥ 1), t0 being the time the Disk was constructed: the phase
 *   is fixed, whenever the data landed. At a tick at time `now`, each file's durable content is
 *   extended with the longest run of not-yet-durable page-cache chunks, from the clean prefix on,
 *   that landed at or before `now - writebackExpireMs`; the first younger chunk stops the run
 *   (landing times only grow along a file, so that is every chunk old enough). So a chunk landing
 *   at time L is durable from the first tick at or after L + expire.
 * - A pending truncate (the durable content is longer than, or differs from, the page cache past
 *   the clean prefix) is written back with the data, in order: nothing of that file is written
 *   back until its most recent truncate is `writebackExpireMs` old; then the durable content
 *   becomes the page cache up to the end of the eligible run. A file that was created and then
 *   truncated to nothing before it was ever durable becomes durable (empty) the same way.
 * - A file whose fsync holds the device is skipped (the fsync writes it anyway, and a kernel
 *   serializes the two on one inode); it is written back at a later tick.
 * - Writeback fires no completion (no process asked for it) and does not occupy the device queue.
 * - The tick is only scheduled while some file is dirty (re-armed when an append lands or a
 *   truncate makes a file dirty), so an idle, clean disk has no pending event and a run with no
 *   time limit still ends. It keeps running through power loss: the cache then equals the durable
 *   content, and a tick with nothing dirty schedules no successor.
 * `writebackExpireMs: Infinity` turns writeback off: dirty data stays dirty until an fsync.
 *
 * One device queue per disk, FIFO and serial: an op starts when the previous one completes and
 * occupies the device for its latency × slow factor + bytes / throughput. Completions therefore
 * fire in issue order, always asynchronously (never inside the call that issued the op).
 *
 * Simplifications, on purpose:
 * - fsync (and writeback) also makes the file's directory entry durable (no separate directory
 *   fsync); a file that was never fsync'd, written back nor written with `writeAtomic` vanishes on
 *   power loss.
 * - `delete` is immediate in both views. On a real file system an unlink not followed by a
 *   directory fsync could be undone by power loss; Kafka deletes segments long after it stopped
 *   writing them (`file.delete.delay.ms`), so nothing it relies on depends on that window.
 * - Ops name files, and the name is resolved when the op takes effect: an append queued before a
 *   `delete` of its file re-creates the file when it lands.
 * - Writeback ages each chunk and writes a file in order, truncates included. Linux ages a whole
 *   inode from when it was first dirtied and, once it expires, writes all its dirty pages, young
 *   ones too, in no guaranteed order; the model writes back only chunks that are old enough, so
 *   a power loss may lose a little more than on Linux, and never leaves a hole (a torn chunk can
 *   still only be the first unsynced one). Writeback bandwidth is not modelled: it takes no device
 *   time and does not delay the ops in the queue. There is no dirty-ratio throttling
 *   (`vm.dirty_ratio`, `vm.dirty_background_ratio`): only age triggers writeback.
 */

export interface DiskConfig {
  /** Latency of one append (and of the write half of `writeAtomic`). */
  writeLatency: LatencySpec;
  /** Latency of one fsync (and of the fsync half of `writeAtomic`). */
  fsyncLatency: LatencySpec;
  /** Device throughput; `Infinity` makes transfer time zero. */
  writeBytesPerSec: number;
  /** An append (or `writeAtomic`) that would take `usedBytes()` past this fails with ENOSPC. */
  capacityBytes: number;
  /**
   * On power loss the first unsynced append of each file may survive partially, as a torn chunk
   * (DESIGN.md rule 3: "the last unsynced write can also be torn").
   */
  tornWrites: boolean;
  /**
   * Linux `vm.dirty_expire_centisecs` (default 3000, i.e. 30 s), in ms: background writeback makes
   * a page-cache chunk durable once it is this old (at the next tick). Positive, or `Infinity` to
   * turn writeback off (then only fsync makes data durable).
   */
  writebackExpireMs: number;
  /** Linux `vm.dirty_writeback_centisecs` (default 500, i.e. 5 s), in ms: the writeback tick period. */
  writebackIntervalMs: number;
}

export const DEFAULT_DISK_CONFIG: Readonly<DiskConfig> = Object.freeze<DiskConfig>({
  writeLatency: { distribution: 'constant', ms: 0.02 },
  fsyncLatency: { distribution: 'constant', ms: 2 },
  writeBytesPerSec: Infinity,
  capacityBytes: Infinity,
  tornWrites: false,
  writebackExpireMs: 30_000,
  writebackIntervalMs: 5_000,
});

/** One write as it sits in a file: an opaque payload (a record batch) and its size. */
export interface Chunk {
  readonly payload: unknown;
  readonly sizeBytes: number;
  /** Only a prefix of the write reached the platter before power was lost. */
  readonly torn?: boolean;
  /** The chunk fails its checksum (a bad sector). */
  readonly corrupt?: boolean;
}

export type DiskOpKind = 'append' | 'fsync' | 'write-atomic';
export type DiskError = 'ENOSPC' | 'EIO';

export interface DiskCompletion {
  readonly opId: number;
  readonly kind: DiskOpKind;
  readonly file: string;
  readonly ok: boolean;
  readonly error?: DiskError;
}

export type DiskReadResult =
  | { readonly ok: true; readonly chunks: readonly Chunk[] }
  | { readonly ok: false; readonly error: 'EIO' | 'ENOENT' };

/**
 * What a node sees through its context (DESIGN.md rule 2). A handle belongs to one process
 * incarnation: after a process crash or a power loss it goes inert, so a zombie cannot write.
 * Inert handles ignore ops (returning -1 as the op id) and see nothing (reads fail with EIO,
 * `exists` is false, `list` is empty, `sizeBytes` is 0). Bad arguments throw SimulationError
 * whether or not the handle is live: they are bugs in the caller.
 */
export interface DiskHandle {
  /**
   * Queues a write of one chunk at the end of `file` and returns the op id. The chunk lands in
   * the page cache when the op completes (after queueing, write latency and size / throughput),
   * creating the file if absent; then the completion fires. ENOSPC is decided when the op starts
   * executing: it fails after the write latency alone (no bytes move) and nothing lands.
   */
  append(file: string, payload: unknown, sizeBytes: number): number;
  /**
   * Queues an fsync of `file` and returns the op id. When it starts executing (the queue is FIFO,
   * so every earlier op has landed) it snapshots the file's page cache; at completion that snapshot
   * becomes the durable content. Kafka never calls this by default (`log.flush.interval.messages`
   * = Long.MAX). An fsync of a file that is absent when it starts (or is deleted meanwhile) is a
   * successful no-op.
   */
  fsync(file: string): number;
  /**
   * Replaces `file` atomically, as Kafka writes its checkpoint files (write a tmp file, fsync,
   * rename): at completion the page cache and the durable content both become exactly [this
   * chunk]; before completion both still show the old content. Latency = write + fsync. It needs
   * room for the new chunk next to the old content (the tmp file), else ENOSPC.
   */
  writeAtomic(file: string, payload: unknown, sizeBytes: number): number;
  /** The page-cache view, synchronously: a snapshot of the file's chunks. */
  read(file: string): DiskReadResult;
  /**
   * Cuts the page cache to its first `chunkCount` chunks now. The durable content follows only
   * at the next fsync of the file (or when writeback catches up with the truncate), so a power
   * loss before then brings truncated chunks back, as on a real file system (ftruncate is
   * metadata in the page cache until it is synced).
   * Throws if the file is absent or `chunkCount` exceeds its length.
   */
  truncate(file: string, chunkCount: number): void;
  /** Removes the file from both views at once (see the module comment). No-op if absent. */
  delete(file: string): void;
  exists(file: string): boolean;
  /** File names (page-cache view) starting with `prefix`, sorted. */
  list(prefix?: string): string[];
  /** Page-cache size in bytes, 0 if absent. */
  sizeBytes(file: string): number;
}

export interface DiskStats {
  /** Appends that landed. */
  appends: number;
  /** Fsyncs that completed. */
  fsyncs: number;
  /** Bytes that landed in the page cache (appends and atomic writes). */
  bytesWritten: number;
  /** Ops that completed with ok = false. */
  failedOps: number;
  /** Bytes made durable by background writeback. */
  writebackBytes: number;
}

/** The kinds of the events a Disk schedules, for whoever reads a trace. */
export const DISK_EVENT_KINDS = Object.freeze({ opComplete: 1, writeback: 2 } as const);
/** The event kind of an op's completion (its payload is the op). */
const EVENT_OP_COMPLETE = DISK_EVENT_KINDS.opComplete;
/** The event kind of a background writeback tick (no payload). */
const EVENT_WRITEBACK = DISK_EVENT_KINDS.writeback;
/** A runaway model (an append loop that never waits) stops here instead of eating memory. */
const MAX_QUEUED_OPS = 1 << 20;
/** When a power loss may leave a torn chunk, how often one survives at all. */
const TORN_SURVIVAL_PROBABILITY = 0.5;
const US_PER_S = 1_000_000;

/** One file, in both views. */
class DiskFile {
  cache: Chunk[] = [];
  cacheBytes = 0;
  /** The durable content; null until the file is first made durable (its directory entry too). */
  durable: Chunk[] | null = null;
  /**
   * cache[0, cleanCount) are the very same chunk objects as durable[0, cleanCount), so an fsync
   * only writes from here on: O(new data), not O(file).
   */
  cleanCount = 0;
  /**
   * When each page-cache chunk landed, parallel to `cache` (numbers, no object per chunk). Only
   * entries from `cleanCount` on are ever read; after a power loss the rest hold the time of the
   * power loss.
   */
  landedUs: TimeUs[] = [];
  /** When the page cache was last cut by `truncate`; -Infinity if never. */
  truncatedUs: TimeUs = -Infinity;

  constructor(readonly name: string) {}

  /** The page cache differs from the durable content (or the file itself is not durable yet). */
  isDirty(): boolean {
    return this.durable === null || this.cleanCount < this.cache.length || this.cleanCount < this.durable.length;
  }

  dirtyBytes(): number {
    let bytes = 0;
    for (let i = this.cleanCount; i < this.cache.length; i++) bytes += this.cache[i].sizeBytes;
    return bytes;
  }

  checkInvariants(): void {
    invariant(this.cleanCount <= this.cache.length, `${this.name}: clean prefix beyond the page cache`);
    invariant(this.cleanCount <= (this.durable?.length ?? 0), `${this.name}: clean prefix beyond the durable content`);
    invariant(this.landedUs.length === this.cache.length, `${this.name}: landing times out of step with the page cache`);
  }
}

/** What an fsync captured when it started: the page cache from the clean prefix on. */
interface FsyncSnapshot {
  readonly file: DiskFile;
  readonly fromIndex: number;
  readonly tail: readonly Chunk[];
}

interface DiskOp {
  readonly opId: number;
  readonly kind: DiskOpKind;
  readonly file: string;
  readonly payload: unknown;
  readonly sizeBytes: number;
  readonly onComplete: (completion: DiskCompletion) => void;
  /** Decided when the op starts executing. */
  error: DiskError | undefined;
  snapshot: FsyncSnapshot | undefined;
}

export class Disk implements EventTarget {
  readonly traceId: number;
  private readonly config: DiskConfig;
  private readonly writeLatency: LatencyModel;
  private readonly fsyncLatency: LatencyModel;
  private readonly files = new Map<string, DiskFile>();
  private usedBytesTotal = 0;
  private capacityBytes: number;
  private slowFactor = 1;
  private readErrorsAll = false;
  private readonly readErrorFiles = new Set<string>();

  /** Bumped by every crash and power loss; a handle is live while its epoch is current. */
  private epoch = 0;
  private nextOpId = 1;
  /** The op occupying the device, and its completion event. */
  private executing: DiskOp | null = null;
  private executingEvent: EventId = -1;
  /** Ops waiting for the device, FIFO from `waitingHead`. */
  private waiting: DiskOp[] = [];
  private waitingHead = 0;

  private readonly counters: DiskStats = { appends: 0, fsyncs: 0, bytesWritten: 0, failedOps: 0, writebackBytes: 0 };

  /** Writeback: `Infinity` expiry when off; ticks at `writebackPhaseUs` + k × interval, k ≥ 1. */
  private readonly writebackExpireUs: DurationUs;
  private readonly writebackIntervalUs: DurationUs;
  private readonly writebackPhaseUs: TimeUs;
  /** The pending writeback tick, or -1. */
  private writebackEvent: EventId = -1;

  constructor(
    private readonly sim: Simulator,
    private readonly rng: Random,
    readonly name: string,
    config: Partial<DiskConfig> = {},
  ) {
    // Field by field, so an explicit `undefined` (a Partial allows it) means the default too.
    this.config = {
      writeLatency: config.writeLatency ?? DEFAULT_DISK_CONFIG.writeLatency,
      fsyncLatency: config.fsyncLatency ?? DEFAULT_DISK_CONFIG.fsyncLatency,
      writeBytesPerSec: config.writeBytesPerSec ?? DEFAULT_DISK_CONFIG.writeBytesPerSec,
      capacityBytes: config.capacityBytes ?? DEFAULT_DISK_CONFIG.capacityBytes,
      tornWrites: config.tornWrites ?? DEFAULT_DISK_CONFIG.tornWrites,
      writebackExpireMs: config.writebackExpireMs ?? DEFAULT_DISK_CONFIG.writebackExpireMs,
      writebackIntervalMs: config.writebackIntervalMs ?? DEFAULT_DISK_CONFIG.writebackIntervalMs,
    };
    this.writeLatency = LatencyModel.from(this.config.writeLatency);
    this.fsyncLatency = LatencyModel.from(this.config.fsyncLatency);
    const throughput = this.config.writeBytesPerSec;
    if (typeof throughput !== 'number' || !(throughput > 0)) {
      throw new SimulationError(`disk ${name}: writeBytesPerSec must be a positive number (or Infinity), got ${String(throughput)}`);
    }
    checkCapacity(this.config.capacityBytes, name);
    if (typeof this.config.tornWrites !== 'boolean') {
      throw new SimulationError(`disk ${name}: tornWrites must be a boolean, got ${String(this.config.tornWrites)}`);
    }
    const expireMs = this.config.writebackExpireMs;
    this.writebackExpireUs = expireMs === Infinity ? Infinity : checkPeriodUs(expireMs, 'writebackExpireMs (or Infinity)', name);
    this.writebackIntervalUs = checkPeriodUs(this.config.writebackIntervalMs, 'writebackIntervalMs', name);
    this.writebackPhaseUs = sim.nowUs;
    this.capacityBytes = this.config.capacityBytes;
    this.traceId = sim.allocateTraceId();
  }

  /** A handle for one process incarnation; completions of its ops go to `onComplete`. */
  handle(onComplete: (completion: DiskCompletion) => void): DiskHandle {
    if (typeof onComplete !== 'function') throw new SimulationError(`disk ${this.name}: handle() needs a completion callback`);
    const epoch = this.epoch;
    const live = (): boolean => epoch === this.epoch;
    return {
      append: (file, payload, sizeBytes) => {
        checkFileName(file);
        checkSizeBytes(sizeBytes);
        return live() ? this.enqueue('append', file, payload, sizeBytes, onComplete) : -1;
      },
      fsync: (file) => {
        checkFileName(file);
        return live() ? this.enqueue('fsync', file, undefined, 0, onComplete) : -1;
      },
      writeAtomic: (file, payload, sizeBytes) => {
        checkFileName(file);
        checkSizeBytes(sizeBytes);
        return live() ? this.enqueue('write-atomic', file, payload, sizeBytes, onComplete) : -1;
      },
      read: (file) => {
        checkFileName(file);
        return live() ? this.read(file) : { ok: false, error: 'EIO' };
      },
      truncate: (file, chunkCount) => {
        checkFileName(file);
        if (live()) this.truncate(file, chunkCount);
      },
      delete: (file) => {
        checkFileName(file);
        if (live()) this.delete(file);
      },
      exists: (file) => {
        checkFileName(file);
        return live() && this.files.has(file);
      },
      list: (prefix = '') => (live() ? this.list(prefix) : []),
      sizeBytes: (file) => {
        checkFileName(file);
        return live() ? (this.files.get(file)?.cacheBytes ?? 0) : 0;
      },
    };
  }

  handleEvent(kind: number, payload: unknown): void {
    if (kind === EVENT_WRITEBACK) {
      this.writebackTick();
      return;
    }
    invariant(kind === EVENT_OP_COMPLETE, `disk ${this.name}: unknown event kind ${kind}`);
    const op = this.executing;
    invariant(op !== null && payload === op, `disk ${this.name}: a completion fired for an op that is not executing`);
    const completion = this.land(op);
    this.executing = null;
    this.executingEvent = -1;
    this.startNext();
    op.onComplete(completion);
  }

  // ---- faults and lifecycle, called by the machine ----

  /**
   * `kill -9` of the process using this disk (DESIGN.md rule 3). Ops not yet completed are
   * discarded: their writes never land and no completion fires (the process that would have seen
   * it is gone). The page cache survives untouched, because the kernel owns it. Old handles go
   * inert.
   */
  processCrashed(): void {
    this.discardInFlight();
    this.epoch++;
  }

  /**
   * The machine loses power (DESIGN.md rule 3): in-flight ops are discarded, and every file's page
   * cache becomes its durable content (what was fsync'd or written back); files never made durable
   * vanish. With `tornWrites`, the
   * first unsynced append of a file may survive as a torn prefix of itself (same payload, between
   * 1 and size - 1 bytes), which is then on disk and survives later power losses too. A torn chunk
   * is only possible where the page cache extends the durable content (no unsynced truncate).
   */
  powerLoss(): void {
    this.discardInFlight();
    this.epoch++;
    this.usedBytesTotal = 0;
    for (const name of [...this.files.keys()].sort()) {
      const file = this.files.get(name) as DiskFile;
      const durable = file.durable;
      if (durable === null) {
        this.files.delete(name);
        continue;
      }
      const torn = this.config.tornWrites ? this.tornChunk(file, durable) : undefined;
      if (torn !== undefined) durable.push(torn);
      file.cache = durable.slice();
      file.cleanCount = durable.length;
      file.landedUs.length = 0;
      for (let i = 0; i < durable.length; i++) file.landedUs.push(this.sim.nowUs);
      file.cacheBytes = sumBytes(durable);
      this.usedBytesTotal += file.cacheBytes;
      file.checkInvariants();
    }
  }

  /** Multiplies the latency part of ops that start from now on (a degraded or overloaded disk). */
  setSlowFactor(multiplier: number): void {
    if (typeof multiplier !== 'number' || !Number.isFinite(multiplier) || multiplier <= 0) {
      throw new SimulationError(`disk ${this.name}: slow factor must be a positive finite number, got ${String(multiplier)}`);
    }
    this.slowFactor = multiplier;
  }

  /** A "full disk" is `setCapacityBytes(usedBytes())`; `Infinity` lifts the limit. */
  setCapacityBytes(bytes: number): void {
    checkCapacity(bytes, this.name);
    this.capacityBytes = bytes;
  }

  /**
   * A bad sector: the chunk at `chunkIndex` is marked corrupt in every view that has a chunk at
   * that index (page cache and durable content), so it also fails its checksum after power loss.
   */
  corrupt(file: string, chunkIndex: number): void {
    checkFileName(file);
    const f = this.files.get(file);
    if (f === undefined) throw new SimulationError(`disk ${this.name}: cannot corrupt ${file}: no such file`);
    const durable = f.durable ?? [];
    const length = Math.max(f.cache.length, durable.length);
    if (!Number.isSafeInteger(chunkIndex) || chunkIndex < 0 || chunkIndex >= length) {
      throw new SimulationError(`disk ${this.name}: chunk index for ${file} must be an integer in [0, ${length}), got ${String(chunkIndex)}`);
    }
    const cached = f.cache[chunkIndex];
    const stored = durable[chunkIndex];
    const damagedCached = cached === undefined ? undefined : { ...cached, corrupt: true };
    if (damagedCached !== undefined) f.cache[chunkIndex] = damagedCached;
    if (stored !== undefined) durable[chunkIndex] = stored === cached ? (damagedCached as Chunk) : { ...stored, corrupt: true };
    f.checkInvariants();
  }

  /**
   * EIO on read for one file, or with no file for all files. Turning errors off with no file
   * clears both the disk-wide switch and every per-file one. The fault is the hardware's, so it
   * outlives crashes and power loss.
   */
  setReadErrors(enabled: boolean, file?: string): void {
    if (file === undefined) {
      this.readErrorsAll = enabled;
      if (!enabled) this.readErrorFiles.clear();
      return;
    }
    checkFileName(file);
    if (enabled) this.readErrorFiles.add(file);
    else this.readErrorFiles.delete(file);
  }

  /** Bytes in all page caches: what the file system reports as used. */
  usedBytes(): number {
    return this.usedBytesTotal;
  }

  // ---- introspection for tests and reports ----

  cacheChunks(file: string): readonly Chunk[] {
    return this.files.get(file)?.cache.slice() ?? [];
  }

  /** What a power loss now would leave (before any torn chunk); [] if the file is not durable. */
  durableChunks(file: string): readonly Chunk[] {
    return this.files.get(file)?.durable?.slice() ?? [];
  }

  /** Bytes in page caches that differ from the durable content: what a power loss would lose. */
  dirtyBytes(): number {
    let bytes = 0;
    for (const file of this.files.values()) bytes += file.dirtyBytes();
    return bytes;
  }

  stats(): DiskStats {
    return { ...this.counters };
  }

  // ---- the device queue ----

  private enqueue(
    kind: DiskOpKind,
    file: string,
    payload: unknown,
    sizeBytes: number,
    onComplete: (completion: DiskCompletion) => void,
  ): number {
    if (this.waiting.length - this.waitingHead >= MAX_QUEUED_OPS) {
      throw new SimulationError(`disk ${this.name}: more than ${MAX_QUEUED_OPS} queued ops; does the model wait for completions?`);
    }
    const op: DiskOp = { opId: this.nextOpId++, kind, file, payload, sizeBytes, onComplete, error: undefined, snapshot: undefined };
    if (this.executing === null) this.start(op);
    else this.waiting.push(op);
    return op.opId;
  }

  private startNext(): void {
    if (this.waitingHead === this.waiting.length) return;
    const op = this.waiting[this.waitingHead];
    this.waiting[this.waitingHead] = undefined as unknown as DiskOp;
    this.waitingHead++;
    if (this.waitingHead === this.waiting.length) {
      this.waiting = [];
      this.waitingHead = 0;
    } else if (this.waitingHead >= 1024 && this.waitingHead * 2 >= this.waiting.length) {
      this.waiting = this.waiting.slice(this.waitingHead);
      this.waitingHead = 0;
    }
    this.start(op);
  }

  /** The op takes the device: decide ENOSPC, snapshot for fsync, and schedule its completion. */
  private start(op: DiskOp): void {
    invariant(this.executing === null, `disk ${this.name}: two ops on the device at once`);
    let durationUs: DurationUs;
    switch (op.kind) {
      case 'append':
        durationUs = this.latencyUs(this.writeLatency);
        if (this.usedBytesTotal + op.sizeBytes > this.capacityBytes) op.error = 'ENOSPC';
        else durationUs += this.transferUs(op.sizeBytes);
        break;
      case 'fsync': {
        durationUs = this.latencyUs(this.fsyncLatency);
        const file = this.files.get(op.file);
        if (file !== undefined) {
          durationUs += this.transferUs(file.dirtyBytes());
          op.snapshot = { file, fromIndex: file.cleanCount, tail: file.cache.slice(file.cleanCount) };
        }
        break;
      }
      case 'write-atomic':
        durationUs = this.latencyUs(this.writeLatency) + this.latencyUs(this.fsyncLatency);
        if (this.usedBytesTotal + op.sizeBytes > this.capacityBytes) op.error = 'ENOSPC';
        else durationUs += this.transferUs(op.sizeBytes);
        break;
    }
    this.executing = op;
    this.executingEvent = this.sim.scheduleAfter(durationUs, this, EVENT_OP_COMPLETE, op);
  }

  /** The op's effect at its completion. */
  private land(op: DiskOp): DiskCompletion {
    if (op.error !== undefined) {
      this.counters.failedOps++;
      return { opId: op.opId, kind: op.kind, file: op.file, ok: false, error: op.error };
    }
    switch (op.kind) {
      case 'append':
        this.landAppend(op);
        break;
      case 'fsync':
        this.landFsync(op);
        break;
      case 'write-atomic':
        this.landWriteAtomic(op);
        break;
    }
    return { opId: op.opId, kind: op.kind, file: op.file, ok: true };
  }

  private landAppend(op: DiskOp): void {
    const file = this.fileForWrite(op.file);
    file.cache.push({ payload: op.payload, sizeBytes: op.sizeBytes });
    file.landedUs.push(this.sim.nowUs);
    file.cacheBytes += op.sizeBytes;
    this.usedBytesTotal += op.sizeBytes;
    this.counters.appends++;
    this.counters.bytesWritten += op.sizeBytes;
    this.armWriteback();
  }

  /** The snapshot taken at start becomes the durable content (even if truncated since). */
  private landFsync(op: DiskOp): void {
    this.counters.fsyncs++;
    const snapshot = op.snapshot;
    if (snapshot === undefined || this.files.get(op.file) !== snapshot.file) return; // absent, or deleted meanwhile
    const file = snapshot.file;
    const durable = file.durable ?? [];
    invariant(snapshot.fromIndex <= durable.length, `${file.name}: fsync snapshot starts beyond the durable content`);
    durable.length = snapshot.fromIndex;
    for (const chunk of snapshot.tail) durable.push(chunk);
    file.durable = durable;
    // Only truncate and corrupt can touch the file while its fsync holds the device (writeback
    // skips it); both keep the clean prefix valid, so extending it over identical chunks costs
    // O(snapshot).
    let clean = Math.min(file.cleanCount, snapshot.fromIndex);
    while (clean < file.cache.length && clean < durable.length && file.cache[clean] === durable[clean]) clean++;
    file.cleanCount = clean;
    file.checkInvariants();
  }

  private landWriteAtomic(op: DiskOp): void {
    const file = this.fileForWrite(op.file);
    const chunk: Chunk = { payload: op.payload, sizeBytes: op.sizeBytes };
    this.usedBytesTotal += op.sizeBytes - file.cacheBytes;
    file.cache = [chunk];
    file.durable = [chunk];
    file.landedUs.length = 0;
    file.landedUs.push(this.sim.nowUs);
    file.cacheBytes = op.sizeBytes;
    file.cleanCount = 1;
    this.counters.bytesWritten += op.sizeBytes;
  }

  private fileForWrite(name: string): DiskFile {
    let file = this.files.get(name);
    if (file === undefined) {
      file = new DiskFile(name);
      this.files.set(name, file);
    }
    return file;
  }

  private discardInFlight(): void {
    if (this.executing !== null) {
      const cancelled = this.sim.cancel(this.executingEvent);
      invariant(cancelled, `disk ${this.name}: the executing op's completion was not pending`);
    }
    this.executing = null;
    this.executingEvent = -1;
    this.waiting = [];
    this.waitingHead = 0;
  }

  private latencyUs(model: LatencyModel): DurationUs {
    return Math.round(model.sampleUs(this.rng) * this.slowFactor);
  }

  private transferUs(bytes: number): DurationUs {
    const throughput = this.config.writeBytesPerSec;
    return bytes === 0 || throughput === Infinity ? 0 : Math.ceil((bytes * US_PER_S) / throughput);
  }

  // ---- synchronous calls from handles ----

  private read(name: string): DiskReadResult {
    const file = this.files.get(name);
    if (file === undefined) return { ok: false, error: 'ENOENT' };
    if (this.readErrorsAll || this.readErrorFiles.has(name)) return { ok: false, error: 'EIO' };
    return { ok: true, chunks: file.cache.slice() };
  }

  private truncate(name: string, chunkCount: number): void {
    const file = this.files.get(name);
    if (file === undefined) throw new SimulationError(`disk ${this.name}: cannot truncate ${name}: no such file`);
    if (!Number.isSafeInteger(chunkCount) || chunkCount < 0 || chunkCount > file.cache.length) {
      throw new SimulationError(
        `disk ${this.name}: truncate ${name} needs a chunk count in [0, ${file.cache.length}], got ${String(chunkCount)}`,
      );
    }
    let removedBytes = 0;
    for (let i = chunkCount; i < file.cache.length; i++) removedBytes += file.cache[i].sizeBytes;
    file.cacheBytes -= removedBytes;
    this.usedBytesTotal -= removedBytes;
    if (chunkCount < file.cache.length) file.truncatedUs = this.sim.nowUs;
    file.cache.length = chunkCount;
    file.landedUs.length = chunkCount;
    file.cleanCount = Math.min(file.cleanCount, chunkCount);
    file.checkInvariants();
    if (file.isDirty()) this.armWriteback();
  }

  private delete(name: string): void {
    const file = this.files.get(name);
    if (file === undefined) return;
    this.usedBytesTotal -= file.cacheBytes;
    this.files.delete(name);
  }

  // ---- background writeback ----

  /** Schedules the next tick (strictly after now, on the fixed phase) unless one is pending or writeback is off. */
  private armWriteback(): void {
    if (this.writebackEvent !== -1 || this.writebackExpireUs === Infinity) return;
    const nowUs = this.sim.nowUs;
    const intervalUs = this.writebackIntervalUs;
    const atUs = nowUs + intervalUs - ((nowUs - this.writebackPhaseUs) % intervalUs);
    if (atUs > MAX_TIME_US) return;
    this.writebackEvent = this.sim.schedule(atUs, this, EVENT_WRITEBACK);
  }

  private writebackTick(): void {
    this.writebackEvent = -1;
    const cutoffUs = this.sim.nowUs - this.writebackExpireUs;
    const fsyncing = this.executing?.snapshot?.file;
    let dirty = false;
    for (const file of this.files.values()) {
      if (file !== fsyncing) this.writeBack(file, cutoffUs);
      if (file.isDirty()) dirty = true;
    }
    if (dirty) this.armWriteback();
  }

  /** Makes durable what of `file` landed (or was truncated) at or before `cutoffUs`, in order. */
  private writeBack(file: DiskFile, cutoffUs: TimeUs): void {
    const clean = file.cleanCount;
    const durable = file.durable;
    // The durable content has chunks the page cache no longer shares (a truncate, or an fsync's
    // chunk replaced meanwhile by `corrupt`), or the file is an empty, never-durable one.
    const metadataDirty = durable === null ? file.cache.length === 0 : durable.length > clean;
    if (metadataDirty && file.truncatedUs > cutoffUs) return;
    let end = clean;
    while (end < file.cache.length && file.landedUs[end] <= cutoffUs) end++;
    if (end === clean && !metadataDirty) return;
    const out = durable ?? [];
    out.length = clean;
    let bytes = 0;
    for (let i = clean; i < end; i++) {
      out.push(file.cache[i]);
      bytes += file.cache[i].sizeBytes;
    }
    file.durable = out;
    file.cleanCount = end;
    this.counters.writebackBytes += bytes;
    file.checkInvariants();
  }

  private list(prefix: string): string[] {
    if (typeof prefix !== 'string') throw new SimulationError(`disk ${this.name}: list prefix must be a string, got ${String(prefix)}`);
    const names: string[] = [];
    for (const name of this.files.keys()) if (name.startsWith(prefix)) names.push(name);
    return names.sort();
  }

  /** A torn prefix of the first unsynced append, or undefined (none eligible, or it did not survive). */
  private tornChunk(file: DiskFile, durable: readonly Chunk[]): Chunk | undefined {
    if (file.cleanCount !== durable.length || file.cache.length === file.cleanCount) return undefined;
    const first = file.cache[file.cleanCount];
    if (first.sizeBytes < 2 || !this.rng.chance(TORN_SURVIVAL_PROBABILITY)) return undefined;
    const sizeBytes = this.rng.int(1, first.sizeBytes - 1);
    return first.corrupt === true
      ? { payload: first.payload, sizeBytes, torn: true, corrupt: true }
      : { payload: first.payload, sizeBytes, torn: true };
  }
}

function checkFileName(file: unknown): asserts file is string {
  if (typeof file !== 'string' || file.length === 0) {
    throw new SimulationError(`a disk file name must be a non-empty string, got ${JSON.stringify(file) ?? String(file)}`);
  }
}

function checkSizeBytes(sizeBytes: unknown): void {
  if (typeof sizeBytes !== 'number' || !Number.isSafeInteger(sizeBytes) || sizeBytes < 0) {
    throw new SimulationError(`a write's sizeBytes must be a non-negative integer, got ${String(sizeBytes)}`);
  }
}

function checkCapacity(bytes: unknown, diskName: string): void {
  if (bytes !== Infinity && (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0)) {
    throw new SimulationError(`disk ${diskName}: capacityBytes must be a non-negative integer or Infinity, got ${String(bytes)}`);
  }
}

/** A positive duration in ms, as a whole number (≥ 1) of µs. */
function checkPeriodUs(ms: unknown, what: string, diskName: string): DurationUs {
  const us = typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? msToUs(ms) : NaN;
  if (!(us >= 1) || !Number.isSafeInteger(us)) {
    throw new SimulationError(`disk ${diskName}: ${what} must be a positive finite number of ms (at least 1 µs), got ${String(ms)}`);
  }
  return us;
}

function sumBytes(chunks: readonly Chunk[]): number {
  let bytes = 0;
  for (const chunk of chunks) bytes += chunk.sizeBytes;
  return bytes;
}
