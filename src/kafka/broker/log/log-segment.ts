import { invariant } from '../../../engine/errors.js';
import { lastOffset, nextOffset, type RecordBatch } from '../../protocol/records.js';
import type { LogDisk } from './log-disk.js';
import { segmentFileName } from './log-file-names.js';

/**
 * The first chunk of every segment file this simulator creates. Kafka creates a segment's file
 * when it rolls (LogSegment.open → FileRecords.open), before any batch is written; the simulated
 * disk only knows writes, so the creation is an empty (0-byte) write. It matters after a crash:
 * an empty active segment (after `truncateFullyAndStartAt`, or a roll by retention) still tells
 * recovery where the log ends.
 */
export const SEGMENT_FILE_HEADER: unknown = Object.freeze({ segmentFile: 'kafkaesque' });

/** What `LogSegment.shouldRoll` needs to know about the incoming append (Kafka's RollParams). */
export interface RollParams {
  /** `segment.bytes`. */
  readonly maxSegmentBytes: number;
  /** `segment.ms` (`segment.jitter.ms` is 0, Kafka's default, and not modelled). */
  readonly maxSegmentMs: number;
  /** Bytes of the batches about to be appended. */
  readonly messagesSizeBytes: number;
  /** The largest record timestamp among them. */
  readonly maxTimestampInMessagesMs: number;
  readonly nowMs: number;
}

/**
 * One segment of a partition's log (LogSegment.java): the batches from `baseOffset` on, in memory
 * and, one chunk per batch after the header chunk, in the file `<dir>/<baseOffset, 20 digits>.log`.
 * There are no offset or time indexes: lookups are binary searches over the batches, so Kafka's
 * "index full" roll condition does not exist here.
 */
export class LogSegment {
  readonly file: string;
  private readonly batchList: RecordBatch[] = [];
  private bytes = 0;
  /** Largest record timestamp in the segment (maxTimestampSoFar), -1 if none. */
  private maxTimestampSoFarMs = -1;
  private createdMsValue: number;
  /** Stands for the file's mtime (LogSegment.lastModified). */
  private lastModifiedMsValue: number;

  private constructor(
    private readonly disk: LogDisk,
    dir: string,
    readonly baseOffset: number,
    nowMs: number,
    /** Chunks before the first batch in the file: 1 (the header), or 0 for a file without one. */
    private readonly headerChunks: number,
  ) {
    this.file = segmentFileName(dir, baseOffset);
    this.createdMsValue = nowMs;
    this.lastModifiedMsValue = nowMs;
  }

  /** A new, empty segment; its file is created now (LogSegment.open). */
  static create(disk: LogDisk, dir: string, baseOffset: number, nowMs: number): LogSegment {
    const segment = new LogSegment(disk, dir, baseOffset, nowMs, 1);
    disk.append(segment.file, SEGMENT_FILE_HEADER, 0);
    return segment;
  }

  /** A segment read back from its file (recovery has validated `batches` as far as Kafka would). */
  static open(disk: LogDisk, dir: string, baseOffset: number, nowMs: number, batches: readonly RecordBatch[], headerChunks: number): LogSegment {
    const segment = new LogSegment(disk, dir, baseOffset, nowMs, headerChunks);
    for (const batch of batches) segment.addInMemory(batch);
    return segment;
  }

  /** An in-memory segment with no file, for a log whose directory is offline. */
  static detached(disk: LogDisk, dir: string, baseOffset: number, nowMs: number): LogSegment {
    return new LogSegment(disk, dir, baseOffset, nowMs, 0);
  }

  get batches(): readonly RecordBatch[] {
    return this.batchList;
  }

  get batchCount(): number {
    return this.batchList.length;
  }

  /** LogSegment.size: bytes of batches in the file. */
  get sizeBytes(): number {
    return this.bytes;
  }

  get createdMs(): number {
    return this.createdMsValue;
  }

  get lastModifiedMs(): number {
    return this.lastModifiedMsValue;
  }

  /** Largest record timestamp, -1 if the segment has none. */
  get maxTimestampMs(): number {
    return this.maxTimestampSoFarMs;
  }

  /** LogSegment.largestTimestamp: the largest record timestamp, or the file's mtime if there is none. */
  largestTimestampMs(): number {
    return this.maxTimestampSoFarMs >= 0 ? this.maxTimestampSoFarMs : this.lastModifiedMsValue;
  }

  /** LogSegment.readNextOffset: the offset after the last batch, or the base offset if empty. */
  get nextOffset(): number {
    const last = this.batchList[this.batchList.length - 1];
    return last === undefined ? this.baseOffset : nextOffset(last);
  }

  isEmpty(): boolean {
    return this.batchList.length === 0;
  }

  /** LogSegment.append: one chunk per batch. The batch must continue the segment. */
  append(batch: RecordBatch, nowMs: number): void {
    if (batch.baseOffset !== this.nextOffset || batch.sizeBytes < 0) {
      invariant(false, `${this.file}: append of batch at ${batch.baseOffset} to a segment ending at ${this.nextOffset}`);
    }
    this.addInMemory(batch);
    this.lastModifiedMsValue = nowMs;
    this.disk.append(this.file, batch, batch.sizeBytes);
  }

  /**
   * LogSegment.shouldRoll: by size (strict `>`, counting the incoming bytes) or, for a non-empty
   * segment, by time measured on record timestamps (`timeWaitedForRoll`). The index-full and
   * relative-offset-overflow conditions have no counterpart here.
   */
  shouldRoll(params: RollParams): boolean {
    const reachedRollMs = this.timeWaitedForRollMs(params.nowMs, params.maxTimestampInMessagesMs) > params.maxSegmentMs;
    return this.bytes > params.maxSegmentBytes - params.messagesSizeBytes || (this.bytes > 0 && reachedRollMs);
  }

  /**
   * LogSegment.timeWaitedForRoll: measured from the first batch's max timestamp when it has one
   * (rollingBasedTimestamp), else from the segment's creation on the broker clock.
   */
  timeWaitedForRollMs(nowMs: number, messageTimestampMs: number): number {
    const first = this.batchList[0];
    const rollingBasedTimestampMs = first === undefined ? -1 : first.maxTimestampMs;
    return rollingBasedTimestampMs >= 0 ? messageTimestampMs - rollingBasedTimestampMs : nowMs - this.createdMsValue;
  }

  /**
   * LogSegment.truncateTo: cuts the file at the position of the first batch whose last offset is
   * at or past `offset` (translateOffset), so a batch straddling `offset` goes entirely. Returns
   * the number of batches removed. An emptied segment restarts its roll clock (`created = now`;
   * without `nowMs`, the time of its last write stands for now).
   */
  truncateTo(offset: number, nowMs: number = this.lastModifiedMsValue): number {
    const index = this.firstBatchEndingAtOrAfter(offset);
    const removed = this.batchList.length - index;
    if (removed === 0) return 0;
    this.batchList.length = index;
    this.bytes = 0;
    this.maxTimestampSoFarMs = -1;
    for (const batch of this.batchList) {
      this.bytes += batch.sizeBytes;
      if (batch.maxTimestampMs > this.maxTimestampSoFarMs) this.maxTimestampSoFarMs = batch.maxTimestampMs;
    }
    if (index === 0) this.createdMsValue = nowMs;
    this.lastModifiedMsValue = nowMs;
    this.disk.truncate(this.file, this.headerChunks + index);
    return removed;
  }

  /**
   * LogSegment.read: whole batches from the one containing `startOffset`, stopping before the
   * first batch whose last offset reaches `maxOffsetExclusive` (Kafka cuts at that batch's
   * position, so a batch straddling the high watermark is not returned until it is entirely
   * below it) and before `maxBytes` would be exceeded; with `minOneBatch` the first batch is
   * returned even if larger (adjustedMaxSize). Returns null if no batch ends at or after
   * `startOffset` (the offset is past this segment), so the caller tries the next segment.
   */
  read(startOffset: number, maxOffsetExclusive: number, maxBytes: number, minOneBatch: boolean): RecordBatch[] | null {
    let index = this.firstBatchEndingAtOrAfter(startOffset);
    if (index === this.batchList.length) return null;
    const first = this.batchList[index];
    const limitBytes = minOneBatch ? Math.max(maxBytes, first.sizeBytes) : maxBytes;
    const out: RecordBatch[] = [];
    let bytes = 0;
    for (; index < this.batchList.length; index++) {
      const batch = this.batchList[index];
      if (lastOffset(batch) >= maxOffsetExclusive || bytes + batch.sizeBytes > limitBytes) break;
      out.push(batch);
      bytes += batch.sizeBytes;
    }
    return out;
  }

  /** Batches whose last offset is at or after `offset`. */
  batchesFrom(offset: number): readonly RecordBatch[] {
    return this.batchList.slice(this.firstBatchEndingAtOrAfter(offset));
  }

  /** LogSegment.flush: fsync of the file; `onDurable` once what was written so far is durable. */
  flush(onDurable: (() => void) | undefined): number {
    return this.disk.fsyncThen(this.file, onDurable);
  }

  /** Removes the file (Kafka renames it `.deleted` and deletes it `file.delete.delay.ms` later; not modelled). */
  deleteFile(): void {
    this.disk.delete(this.file);
  }

  private addInMemory(batch: RecordBatch): void {
    this.batchList.push(batch);
    this.bytes += batch.sizeBytes;
    if (batch.maxTimestampMs > this.maxTimestampSoFarMs) this.maxTimestampSoFarMs = batch.maxTimestampMs;
  }

  /** Index of the first batch with lastOffset ≥ offset (the batch containing it, if any), or the count. */
  private firstBatchEndingAtOrAfter(offset: number): number {
    let lo = 0;
    let hi = this.batchList.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (lastOffset(this.batchList[mid]) >= offset) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
