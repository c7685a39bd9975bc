import { invariant } from '../../engine/errors.js';
import type { DiskCompletion, DiskError, DiskHandle } from '../../world/disk.js';
import { batchSizeBytes, type RaftRecordBatch } from './raft-messages.js';

/** The metadata log's directory and its single segment (Kafka names the segment by its base offset). */
export const METADATA_LOG_DIR = '__cluster_metadata-0';
export const METADATA_LOG_FILE = `${METADATA_LOG_DIR}/00000000000000000000.log`;

/** Kafka's OffsetAndEpoch: compared by epoch first, then offset. */
export interface OffsetAndEpoch {
  readonly offset: number;
  readonly epoch: number;
}

export function compareOffsetAndEpoch(a: OffsetAndEpoch, b: OffsetAndEpoch): number {
  return a.epoch !== b.epoch ? a.epoch - b.epoch : a.offset - b.offset;
}

/** ValidOffsetAndEpoch: a fetch position the leader accepts, or where the fetcher's log diverges. */
export type ValidOffsetAndEpoch = { readonly kind: 'valid' } | { readonly kind: 'diverging'; readonly epoch: number; readonly endOffset: number };

/** One entry of the log, as listeners and checkers read it. */
export interface RaftEntry {
  readonly offset: number;
  readonly epoch: number;
  readonly record: unknown;
  readonly control: boolean;
}

interface EpochStart {
  readonly epoch: number;
  readonly startOffset: number;
}

/** What recovery found on disk. */
export interface RaftLogRecovery {
  readonly batches: number;
  readonly endOffset: number;
  /** Chunks cut off at the first torn, corrupt or out-of-sequence one (LogLoader's recovery). */
  readonly droppedChunks: number;
  readonly error?: 'EIO';
}

/** Bounds what one Fetch response carries (KafkaRaftClient reads at most MAX_FETCH_SIZE_BYTES). */
const MAX_FETCH_BATCHES = 1_000;

/**
 * The replicated metadata log on the simulated disk (ReplicatedLog / KafkaMetadataLog over one
 * UnifiedLog segment). One disk chunk per record batch, so a torn or corrupt chunk is a batch
 * failing its CRC, and every replica holds the same batch boundaries (followers append the
 * leader's batches as they are; the leader slices one only when a fetch starts mid-batch).
 *
 * Durability is tracked by `flushedOffset`: entries below it were fsync'd. Kafka's KRaft fsyncs
 * the log before an entry counts (KRAFT.md §4.4); the client reads `flushedOffset` for the
 * leader's own replica state and sends a follower's next Fetch (which reports its LEO) only once
 * nothing is pending here.
 *
 * The epoch cache (leader-epoch-checkpoint in Kafka) is derived from the batches: each batch
 * carries its epoch and epochs only grow along the log, so the first batch of each epoch is the
 * cache entry. Recovery rebuilds it from the recovered batches, as LogLoader does.
 *
 * Truncation and appends go through one FIFO disk queue, but `truncate` acts on the page cache at
 * once; so a truncation must never overtake a queued append. `truncateTo` asserts that nothing is
 * pending, and the client only truncates on a Fetch response, which it only asks for when idle.
 */
export class RaftLog {
  private batches: RaftRecordBatch[] = [];
  /** entries[offset]: a flat index over the batches, for reads and checkers. */
  private entriesByOffset: RaftEntry[] = [];
  private epochs: EpochStart[] = [];
  private flushed = 0;
  private readonly pendingAppends = new Set<number>();
  /** fsync op id → the log end offset when it was issued (what it makes durable). */
  private readonly pendingFsyncs = new Map<number, number>();
  private diskError: DiskError | undefined;
  /** A truncate has cut the page cache and no fsync has carried it to the durable content yet. */
  private dirtyAfterTruncate = false;

  constructor(
    private readonly disk: DiskHandle,
    readonly file: string = METADATA_LOG_FILE,
  ) {}

  /**
   * Loads the segment from the page cache: batches in sequence until the first torn, corrupt or
   * out-of-sequence chunk, which is cut off with everything after it (LogSegment.recover truncates
   * at the first batch failing validation).
   */
  recover(): RaftLogRecovery {
    const read = this.disk.read(this.file);
    if (!read.ok) {
      if (read.error === 'EIO') this.diskError = 'EIO';
      return read.error === 'EIO' ? { batches: 0, endOffset: 0, droppedChunks: 0, error: 'EIO' } : { batches: 0, endOffset: 0, droppedChunks: 0 };
    }
    let kept = 0;
    for (const chunk of read.chunks) {
      if (chunk.torn === true || chunk.corrupt === true) break;
      const batch = chunk.payload as RaftRecordBatch;
      if (batch.baseOffset !== this.endOffset || batch.records.length === 0 || batch.epoch < this.lastFetchedEpoch()) break;
      this.addBatch(batch);
      kept++;
    }
    const droppedChunks = read.chunks.length - kept;
    if (droppedChunks > 0) this.disk.truncate(this.file, kept);
    return { batches: kept, endOffset: this.endOffset, droppedChunks };
  }

  /** The log end offset (LEO): the next offset to be written. */
  get endOffset(): number {
    return this.entriesByOffset.length;
  }

  /** Entries below this offset are durable (fsync'd). */
  get flushedOffset(): number {
    return this.flushed;
  }

  /** Appends or fsyncs not yet completed. */
  get hasPendingWrites(): boolean {
    return this.pendingAppends.size > 0 || this.pendingFsyncs.size > 0;
  }

  /** A failed disk op (ENOSPC, EIO): Kafka marks the log dir offline and the process stops. */
  get error(): DiskError | undefined {
    return this.diskError;
  }

  /** ReplicatedLog.lastFetchedEpoch: the epoch of the last entry, 0 for an empty log. */
  lastFetchedEpoch(): number {
    return this.epochs.length === 0 ? 0 : this.epochs[this.epochs.length - 1].epoch;
  }

  /** (LEO, lastFetchedEpoch): what votes compare (KafkaRaftClient.endOffset()). */
  endOffsetAndEpoch(): OffsetAndEpoch {
    return { offset: this.endOffset, epoch: this.lastFetchedEpoch() };
  }

  /** The leader writes a batch in its epoch: in memory now, on disk (append + fsync) queued. */
  appendAsLeader(records: readonly unknown[], epoch: number, control = false): RaftRecordBatch {
    invariant(records.length > 0, 'a leader batch needs at least one record');
    invariant(epoch >= this.lastFetchedEpoch(), `leader append in epoch ${epoch} after epoch ${this.lastFetchedEpoch()}`);
    const batch: RaftRecordBatch = { baseOffset: this.endOffset, epoch, control, records: records.slice() };
    this.append(batch);
    return batch;
  }

  /** A follower appends the leader's batch as it is (KafkaMetadataLog.appendAsFollower). */
  appendAsFollower(batch: RaftRecordBatch): void {
    invariant(batch.baseOffset === this.endOffset, `follower append at ${batch.baseOffset}, but the log ends at ${this.endOffset}`);
    invariant(batch.epoch >= this.lastFetchedEpoch(), `follower append in epoch ${batch.epoch} after epoch ${this.lastFetchedEpoch()}`);
    this.append(batch);
  }

  /** Queues an fsync of everything written so far, unless it is already durable or on its way. */
  flush(): void {
    const endOffset = this.endOffset;
    let covered = this.flushed;
    for (const issuedAt of this.pendingFsyncs.values()) covered = Math.max(covered, issuedAt);
    if (covered >= endOffset && !this.dirtyAfterTruncate) return;
    this.dirtyAfterTruncate = false;
    const opId = this.disk.fsync(this.file);
    if (opId >= 0) this.pendingFsyncs.set(opId, endOffset);
  }

  /** Routes a disk completion; false if it is not one of this log's ops. */
  handleDiskComplete(c: DiskCompletion): boolean {
    if (this.pendingAppends.delete(c.opId)) {
      if (!c.ok) this.diskError = c.error;
      return true;
    }
    const issuedAt = this.pendingFsyncs.get(c.opId);
    if (issuedAt === undefined) return false;
    this.pendingFsyncs.delete(c.opId);
    if (!c.ok) this.diskError = c.error;
    else this.flushed = Math.max(this.flushed, Math.min(issuedAt, this.endOffset));
    return true;
  }

  /**
   * UnifiedLog.truncateTo: drops every entry at or above `offset`. A batch cut in the middle is
   * rewritten as its prefix (only the leader's fetch slicing could make that happen). The truncate
   * reaches the durable content with the next fsync (`flush`), as on a real file system.
   */
  truncateTo(offset: number): void {
    invariant(!this.hasPendingWrites, `truncate to ${offset} while disk writes are pending`);
    invariant(offset >= 0, `truncate to a negative offset ${offset}`);
    if (offset >= this.endOffset) return;
    let index = this.batches.length - 1;
    while (index > 0 && this.batches[index].baseOffset > offset) index--;
    const cut = this.batches[index];
    const prefix = cut.baseOffset < offset ? { ...cut, records: cut.records.slice(0, offset - cut.baseOffset) } : undefined;
    this.disk.truncate(this.file, index);
    this.batches.length = index;
    this.entriesByOffset.length = cut.baseOffset;
    while (this.epochs.length > 0 && this.epochs[this.epochs.length - 1].startOffset >= cut.baseOffset) this.epochs.pop();
    this.flushed = Math.min(this.flushed, cut.baseOffset);
    if (prefix !== undefined) this.append(prefix);
    this.dirtyAfterTruncate = true;
  }

  /** ReplicatedLog.truncateToEndOffset: where a diverging epoch from the leader says to cut. */
  truncateToEndOffset(divergence: OffsetAndEpoch): number {
    let truncationOffset: number;
    if (divergence.epoch === 0) truncationOffset = Math.min(divergence.offset, this.endOffset);
    else {
      const local = this.endOffsetForEpoch(divergence.epoch);
      truncationOffset = local.epoch === divergence.epoch ? Math.min(local.offset, divergence.offset) : local.offset;
    }
    this.truncateTo(truncationOffset);
    return truncationOffset;
  }

  /**
   * The largest epoch ≤ `epoch` in the epoch cache and where it ends: the start of the next epoch,
   * or the LEO for the latest (LeaderEpochFileCache.endOffsetFor via KafkaMetadataLog.endOffsetForEpoch).
   */
  endOffsetForEpoch(epoch: number): OffsetAndEpoch {
    const n = this.epochs.length;
    if (n === 0 || this.epochs[n - 1].epoch === epoch) return n === 0 ? this.endOffsetAndEpoch() : { offset: this.endOffset, epoch };
    let higher = 0;
    while (higher < n && this.epochs[higher].epoch <= epoch) higher++;
    // Newer than any epoch here: the lookup is undefined and KafkaMetadataLog answers with the LEO.
    if (higher === n) return this.endOffsetAndEpoch();
    const endOffset = this.epochs[higher].startOffset;
    // Older than the first epoch here: Kafka answers with the requested epoch itself.
    if (higher === 0) return { offset: endOffset, epoch };
    return { offset: endOffset, epoch: this.epochs[higher - 1].epoch };
  }

  /** ReplicatedLog.validateOffsetAndEpoch (snapshots left out): is (offset, epoch) on this log? */
  validateOffsetAndEpoch(offset: number, epoch: number): ValidOffsetAndEpoch {
    if (offset === 0) return { kind: 'valid' };
    const end = this.endOffsetForEpoch(epoch);
    if (end.epoch !== epoch || end.offset < offset) return { kind: 'diverging', epoch: end.epoch, endOffset: end.offset };
    return { kind: 'valid' };
  }

  /** Batches from `fromOffset` to the LEO (uncommitted included, as the leader serves followers). */
  read(fromOffset: number): RaftRecordBatch[] {
    if (fromOffset >= this.endOffset) return [];
    let index = this.batches.length - 1;
    while (index > 0 && this.batches[index].baseOffset > fromOffset) index--;
    const out: RaftRecordBatch[] = [];
    for (let i = index; i < this.batches.length && out.length < MAX_FETCH_BATCHES; i++) {
      const batch = this.batches[i];
      out.push(batch.baseOffset < fromOffset ? { ...batch, baseOffset: fromOffset, records: batch.records.slice(fromOffset - batch.baseOffset) } : batch);
    }
    return out;
  }

  /** Entries in [from, to), clamped to the log. */
  entries(from: number, to: number = this.endOffset): RaftEntry[] {
    return this.entriesByOffset.slice(Math.max(0, from), Math.min(to, this.endOffset));
  }

  entryAt(offset: number): RaftEntry | undefined {
    return this.entriesByOffset[offset];
  }

  private append(batch: RaftRecordBatch): void {
    this.addBatch(batch);
    const opId = this.disk.append(this.file, batch, batchSizeBytes(batch));
    if (opId >= 0) this.pendingAppends.add(opId);
  }

  private addBatch(batch: RaftRecordBatch): void {
    this.batches.push(batch);
    if (this.epochs.length === 0 || this.epochs[this.epochs.length - 1].epoch < batch.epoch) {
      this.epochs.push({ epoch: batch.epoch, startOffset: batch.baseOffset });
    }
    batch.records.forEach((record, i) => {
      this.entriesByOffset.push({ offset: batch.baseOffset + i, epoch: batch.epoch, record, control: batch.control });
    });
  }
}
