import { invariant } from '../../../engine/errors.js';
import type { DiskHandle } from '../../../world/disk.js';
import { UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET } from '../../protocol/messages.js';
import { KafkaStorageException, type EpochEntry } from './types.js';

/** The answer to an end-offset lookup: the epoch found and the offset where it ends. */
export interface EpochEndOffsetLookup {
  readonly epoch: number;
  readonly endOffset: number;
}

const UNDEFINED_LOOKUP: EpochEndOffsetLookup = Object.freeze({ epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET });

/** Bytes of Kafka's text checkpoint: a version line, a count line, one `epoch offset` line per entry. */
function checkpointSizeBytes(entries: number): number {
  return 4 + entries * 16;
}

/**
 * The leader epoch cache (LeaderEpochFileCache.java): for each leader epoch this replica has seen
 * in its log, the first offset written in it. Kafka keeps a TreeMap keyed by epoch; the entries
 * are strictly increasing in both epoch and start offset (assign removes whatever would break
 * that), so a sorted array with binary search is the same map.
 *
 * Persistence: the checkpoint file `leader-epoch-checkpoint` holds one chunk whose payload is the
 * `EpochEntry[]`. Kafka writes it synchronously with fsync on `assign` and `clearAndFlush`
 * (LeaderEpochCheckpointFile.write → CheckpointFile: tmp file, fsync, rename), and asynchronously
 * after `truncateFromEnd`/`truncateFromStart`; every write here is a `writeAtomic`, issued at once.
 * Recovery repairs a stale checkpoint (UnifiedLog/LogLoader: truncateFromEnd(LEO), truncateFromStart).
 */
export class LeaderEpochFileCache {
  private epochs: EpochEntry[] = [];

  /** `entries` are applied with Kafka's assign rule (the constructor reads the checkpoint with `assign`), without a write. */
  constructor(
    private readonly disk: DiskHandle,
    readonly file: string,
    entries: readonly EpochEntry[] = [],
  ) {
    for (const entry of entries) this.assignEntry(entry.epoch, entry.startOffset);
  }

  /** Reads the checkpoint file; a missing file is an empty cache. An unreadable one takes the log dir offline. */
  static load(disk: DiskHandle, file: string): LeaderEpochFileCache {
    const result = disk.read(file);
    if (!result.ok) {
      if (result.error === 'ENOENT') return new LeaderEpochFileCache(disk, file);
      throw new KafkaStorageException(`cannot read ${file}: ${result.error}`);
    }
    const chunk = result.chunks[0];
    const entries = chunk !== undefined && chunk.corrupt !== true && chunk.torn !== true && Array.isArray(chunk.payload) ? (chunk.payload as EpochEntry[]) : [];
    return new LeaderEpochFileCache(disk, file, entries);
  }

  /**
   * LeaderEpochFileCache.assign: records that `epoch` starts at `startOffset`, removing any later
   * entry it conflicts with. Returns whether the cache changed (and the checkpoint was written).
   */
  assign(epoch: number, startOffset: number): boolean {
    if (!this.assignEntry(epoch, startOffset)) return false;
    this.writeCheckpoint();
    return true;
  }

  /** LeaderEpochFileCache.endOffsetFor (trunk): REPLICATION.md §4. */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): EpochEndOffsetLookup {
    if (requestedEpoch === UNDEFINED_EPOCH) return UNDEFINED_LOOKUP;
    const latest = this.latestEntry();
    if (latest !== undefined && latest.epoch === requestedEpoch) return { epoch: requestedEpoch, endOffset: logEndOffset };
    const higherIndex = this.firstIndexWithEpochAbove(requestedEpoch);
    // The requested epoch is newer than any this replica knows.
    if (higherIndex === this.epochs.length) return UNDEFINED_LOOKUP;
    const higher = this.epochs[higherIndex];
    // Older than the first known epoch: its data is gone, answer with the first known start offset.
    if (higherIndex === 0) return { epoch: requestedEpoch, endOffset: higher.startOffset };
    return { epoch: this.epochs[higherIndex - 1].epoch, endOffset: higher.startOffset };
  }

  /**
   * The 0.11–1.1 lookup (before KIP-279, REPLICATION.md §10 `epochEndOffsetLookup`): the latest
   * epoch ends at the LEO; any other epoch ends where the first later epoch starts; UNDEFINED if
   * no epoch is later or the requested one precedes the first cached. The answer carries no epoch.
   */
  endOffsetForPreKip279(requestedEpoch: number, logEndOffset: number): EpochEndOffsetLookup {
    if (requestedEpoch === UNDEFINED_EPOCH) return UNDEFINED_LOOKUP;
    if (requestedEpoch === this.latestEpoch()) return { epoch: UNDEFINED_EPOCH, endOffset: logEndOffset };
    const higherIndex = this.firstIndexWithEpochAbove(requestedEpoch);
    if (higherIndex === this.epochs.length || requestedEpoch < this.epochs[0].epoch) return UNDEFINED_LOOKUP;
    return { epoch: UNDEFINED_EPOCH, endOffset: this.epochs[higherIndex].startOffset };
  }

  /** LeaderEpochFileCache.truncateFromEnd: drops every entry starting at or after `endOffset`. */
  truncateFromEnd(endOffset: number): void {
    const latest = this.latestEntry();
    if (endOffset < 0 || latest === undefined || latest.startOffset < endOffset) return;
    let keep = this.epochs.length;
    while (keep > 0 && this.epochs[keep - 1].startOffset >= endOffset) keep--;
    this.epochs.length = keep;
    this.writeCheckpoint();
  }

  /**
   * LeaderEpochFileCache.truncateFromStart: drops every entry starting at or before `startOffset`
   * and re-inserts the last of them at `startOffset` ("truncateFromStart(6) retains an entry at 6").
   */
  truncateFromStart(startOffset: number): void {
    let removed = 0;
    while (removed < this.epochs.length && this.epochs[removed].startOffset <= startOffset) removed++;
    if (removed === 0) return;
    const lastRemoved = this.epochs[removed - 1];
    this.epochs = [{ epoch: lastRemoved.epoch, startOffset }, ...this.epochs.slice(removed)];
    this.writeCheckpoint();
  }

  /** LeaderEpochFileCache.clearAndFlush (on truncateFullyAndStartAt). Unlike Kafka's `clear`, it writes the checkpoint. */
  clear(): void {
    this.epochs = [];
    this.writeCheckpoint();
  }

  clearAndFlush(): void {
    this.clear();
  }

  /** -1 (UNDEFINED_EPOCH) when empty. */
  latestEpoch(): number {
    const latest = this.latestEntry();
    return latest === undefined ? UNDEFINED_EPOCH : latest.epoch;
  }

  latestEntry(): EpochEntry | undefined {
    return this.epochs[this.epochs.length - 1];
  }

  earliestEntry(): EpochEntry | undefined {
    return this.epochs[0];
  }

  /** The epoch whose entry starts at `offset`, else the last one starting before it; -1 if none. */
  epochForOffset(offset: number): number {
    let previous = UNDEFINED_EPOCH;
    for (const entry of this.epochs) {
      if (entry.startOffset === offset) return entry.epoch;
      if (entry.startOffset > offset) return previous;
      previous = entry.epoch;
    }
    return previous;
  }

  /**
   * The largest cached epoch below `epoch` (TreeMap.lowerKey), or, with no argument, the one before
   * the latest (LeaderEpochFileCache.previousEpoch()); -1 if none.
   */
  previousEpoch(epoch?: number): number {
    const target = epoch ?? this.latestEpoch();
    if (epoch === undefined && target === UNDEFINED_EPOCH) return UNDEFINED_EPOCH;
    const index = this.firstIndexWithEpochAbove(target - 1) - 1;
    return index >= 0 ? this.epochs[index].epoch : UNDEFINED_EPOCH;
  }

  /** The smallest cached epoch above `epoch` (TreeMap.higherKey); -1 if none. */
  nextEpoch(epoch: number): number {
    const index = this.firstIndexWithEpochAbove(epoch);
    return index < this.epochs.length ? this.epochs[index].epoch : UNDEFINED_EPOCH;
  }

  epochEntry(epoch: number): EpochEntry | undefined {
    const index = this.firstIndexWithEpochAbove(epoch - 1);
    const entry = this.epochs[index];
    return entry !== undefined && entry.epoch === epoch ? entry : undefined;
  }

  isEmpty(): boolean {
    return this.epochs.length === 0;
  }

  /** A copy of the entries, oldest first. */
  entries(): readonly EpochEntry[] {
    return this.epochs.slice();
  }

  /** LeaderEpochFileCache.assign(EpochEntry) without the write: isUpdateNeeded, then maybeTruncateNonMonotonicEntries. */
  private assignEntry(epoch: number, startOffset: number): boolean {
    if (!(Number.isSafeInteger(epoch) && epoch >= 0 && Number.isSafeInteger(startOffset) && startOffset >= 0)) {
      invariant(false, `leader epoch cache ${this.file}: invalid entry epoch=${epoch} startOffset=${startOffset}`);
    }
    const latest = this.latestEntry();
    if (latest !== undefined && latest.epoch === epoch && startOffset >= latest.startOffset) return false;
    let keep = this.epochs.length;
    while (keep > 0 && (this.epochs[keep - 1].epoch >= epoch || this.epochs[keep - 1].startOffset >= startOffset)) keep--;
    this.epochs.length = keep;
    this.epochs.push({ epoch, startOffset });
    return true;
  }

  /** Index of the first entry with epoch > `epoch` (TreeMap.higherEntry), or the length. */
  private firstIndexWithEpochAbove(epoch: number): number {
    let lo = 0;
    let hi = this.epochs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.epochs[mid].epoch > epoch) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private writeCheckpoint(): void {
    const entries = this.epochs.slice();
    this.disk.writeAtomic(this.file, entries, checkpointSizeBytes(entries.length));
  }
}
