import { invariant } from '../../../engine/errors.js';
import type { DiskCompletion, DiskHandle } from '../../../world/disk.js';
import { Errors, type ErrorCode } from '../../protocol/errors.js';
import { isValidBatch, lastOffset, nextOffset, stampBatch, type RecordBatch } from '../../protocol/records.js';
import { tpKey } from '../../protocol/topic-partition.js';
import { LeaderEpochFileCache, type EpochEndOffsetLookup } from './leader-epoch-cache.js';
import type { LogConfig } from './log-config.js';
import { LogDisk } from './log-disk.js';
import { epochCheckpointFileName, parseOffsetFile, segmentFileName } from './log-file-names.js';
import { LogSegment, SEGMENT_FILE_HEADER } from './log-segment.js';
import { ProducerSnapshotFiles } from './producer-snapshot-files.js';
import { DEFAULT_PRODUCER_ID_EXPIRATION_MS, ProducerStateManager } from './producer-state.js';
import { KafkaStorageException, type FollowerAppendResult, type LeaderAppendResult, type ReadResult } from './types.js';

export interface UnifiedLogLoadOptions {
  readonly disk: DiskHandle;
  readonly topic: string;
  readonly partition: number;
  readonly config: LogConfig;
  readonly nowMs: number;
  /** This log's entry in `recovery-point-offset-checkpoint` (0 if none). */
  readonly recoveryPoint: number;
  /** This log's entry in `log-start-offset-checkpoint` (0 if none). */
  readonly logStartOffsetCheckpoint: number;
  /** This log's entry in `replication-offset-checkpoint` (0 if none). */
  readonly highWatermarkCheckpoint: number;
  /** The broker's shared write-ordering view of `disk` (LogManager passes its own); default: a private one. */
  readonly logDisk?: LogDisk;
  /** `producer.id.expiration.ms`, applied when producer state is loaded from a snapshot. */
  readonly producerIdExpirationMs?: number;
}

/** A flush waiting for its fsyncs: the recovery point becomes `targetOffset` when all are durable. */
interface FlushRequest {
  targetOffset: number;
  remaining: number;
}

interface LogState {
  readonly topic: string;
  readonly partition: number;
  readonly config: LogConfig;
  readonly files: LogDisk;
  readonly segments: LogSegment[];
  readonly epochCache: LeaderEpochFileCache;
  readonly snapshots: ProducerSnapshotFiles;
  readonly logStartOffset: number;
  readonly recoveryPoint: number;
  readonly nowMs: number;
  readonly producerIdExpirationMs: number;
}

const STORAGE_ERROR = Object.freeze({ ok: false as const, error: Errors.KAFKA_STORAGE_ERROR });

/**
 * A partition replica's local log (UnifiedLog.java with LocalLog and LogLoader): segments on the
 * simulated disk, the log start offset, log end offset (LEO), high watermark (HW) and recovery
 * point, the leader epoch cache and the idempotent producer state. REPLICATION.md §3–§5 and §8
 * give the rules; each method cites the Kafka method it follows.
 *
 * Differences from Kafka, on purpose:
 * - Offsets are contiguous (no compaction, no transactions): a follower append must start exactly
 *   at the LEO and continue batch by batch, and truncation keeps LEO equal to the end of the last
 *   remaining batch (Kafka sets LEO to the target even when a batch straddles it; with batch-aligned
 *   targets, the only kind the protocol produces, both agree).
 * - Kafka's flush is synchronous; here an fsync is an op that completes later, so the recovery
 *   point advances when it does, and the `flush.messages` rule counts messages not yet covered by
 *   a flush in flight (`LEO - max(recoveryPoint, highest flush requested)`), which is what Kafka's
 *   `LEO - recoveryPoint` is at the moment its synchronous flush returns.
 * - There is no clean-shutdown marker yet: every load is an unclean-shutdown recovery.
 */
export class UnifiedLog {
  readonly topic: string;
  readonly partition: number;
  /** `${topic}-${partition}`: the partition directory (a file name prefix on the simulated disk). */
  readonly dir: string;
  readonly epochCache: LeaderEpochFileCache;
  readonly producerStateManager: ProducerStateManager;
  private configValue: LogConfig;
  private readonly files: LogDisk;
  private readonly snapshots: ProducerSnapshotFiles;
  private segs: LogSegment[];
  private leo: number;
  private logStart: number;
  private hw: number;
  private recoveryPt: number;
  /** ProducerStateManager.lastSnapOffset: the offset of the latest snapshot taken or loaded. */
  private lastSnapOffset: number;
  /** The highest offset a flush in flight will bring the recovery point to. */
  private flushRequestedOffset: number;
  private readonly flushesInFlight = new Set<FlushRequest>();
  /** The latest broker time seen, for operations Kafka times with its own clock but whose signature has no `nowMs`. */
  private nowMsSeen: number;
  private offlineReason: string | undefined;
  private readonly producerIdExpirationMs: number;

  private constructor(state: LogState) {
    this.topic = state.topic;
    this.partition = state.partition;
    this.dir = tpKey(state.topic, state.partition);
    this.configValue = state.config;
    this.files = state.files;
    this.segs = state.segments;
    this.epochCache = state.epochCache;
    this.snapshots = state.snapshots;
    this.producerStateManager = new ProducerStateManager(0);
    const last = state.segments[state.segments.length - 1];
    this.leo = last.nextOffset;
    this.logStart = state.logStartOffset;
    this.hw = state.logStartOffset;
    this.recoveryPt = Math.min(state.recoveryPoint, this.leo);
    this.lastSnapOffset = state.logStartOffset;
    this.flushRequestedOffset = this.recoveryPt;
    this.nowMsSeen = state.nowMs;
    this.producerIdExpirationMs = state.producerIdExpirationMs;
  }

  /**
   * Opens the partition's log (LogLoader.load), always recovering as after an unclean shutdown
   * (REPLICATION.md §3.5): segments from the one holding the recovery point on are validated batch
   * by batch; the first bad batch truncates its segment and deletes every later one. A directory
   * with no segment gives a new empty log at the log start offset checkpoint. A read error (EIO)
   * gives an offline log (Kafka takes the log dir offline).
   */
  static load(options: UnifiedLogLoadOptions): UnifiedLog {
    const files = options.logDisk ?? new LogDisk(options.disk);
    const dir = tpKey(options.topic, options.partition);
    try {
      return UnifiedLog.recover(options, files, dir);
    } catch (error) {
      if (!(error instanceof KafkaStorageException)) throw error;
      return UnifiedLog.offlineLog(options, files, dir, error.message);
    }
  }

  // ------------------------------------------------------------------ state

  get config(): LogConfig {
    return this.configValue;
  }

  /** A dynamic topic config change (UnifiedLog.updateConfig). */
  updateConfig(config: LogConfig): void {
    this.configValue = config;
  }

  get logEndOffset(): number {
    return this.leo;
  }

  get logStartOffset(): number {
    return this.logStart;
  }

  get highWatermark(): number {
    return this.hw;
  }

  /** Every offset below it is durable (fsync'd) on disk. */
  get recoveryPoint(): number {
    return this.recoveryPt;
  }

  /** LocalLog.unflushedMessages as this model counts it (see the class comment). */
  get unflushedMessages(): number {
    return this.leo - Math.max(this.recoveryPt, this.flushRequestedOffset);
  }

  /** The log directory failed (a read error at load, a failed write) or the log was deleted. */
  get offline(): boolean {
    return this.offlineReason !== undefined || this.files.failed !== undefined;
  }

  get offlineCause(): string | undefined {
    return this.offlineReason ?? (this.files.failed === undefined ? undefined : `disk write failed: ${this.files.failed}`);
  }

  /** Bytes in all segments (UnifiedLog.size). */
  get sizeBytes(): number {
    let bytes = 0;
    for (const segment of this.segs) bytes += segment.sizeBytes;
    return bytes;
  }

  latestEpoch(): number {
    return this.epochCache.latestEpoch();
  }

  segments(): readonly LogSegment[] {
    return this.segs;
  }

  get activeSegment(): LogSegment {
    return this.segs[this.segs.length - 1];
  }

  /** Offsets of the producer snapshot files. */
  producerSnapshotOffsets(): readonly number[] {
    return this.snapshots.list();
  }

  /** Every batch whose last offset is at or after `offset`, in order (for invariant checks and reports). */
  batchesFrom(offset: number): readonly RecordBatch[] {
    const out: RecordBatch[] = [];
    for (let i = this.floorSegmentIndex(offset); i < this.segs.length; i++) {
      for (const batch of this.segs[i].batchesFrom(offset)) out.push(batch);
    }
    return out;
  }

  // ------------------------------------------------------------------ append

  /**
   * UnifiedLog.appendAsLeader → append(validateAndAssignOffsets = true), in Kafka's order
   * (REPLICATION.md §3.1): validate (size, CRC) → assign offsets and stamp the leader epoch →
   * epoch cache assign → segment size check → maybe roll → producer state validation (a duplicate
   * returns the original offsets with nothing written) → write → producer state update → flush if
   * `flush.messages` is reached. As in Kafka, the epoch is assigned (and a roll may happen) even
   * if producer validation then rejects the batch.
   */
  appendAsLeader(batch: RecordBatch, leaderEpoch: number, nowMs: number): LeaderAppendResult {
    this.observeNow(nowMs);
    if (this.offline) return STORAGE_ERROR;
    // UnifiedLog.analyzeAndValidateRecords
    if (batch.sizeBytes > this.configValue.maxMessageBytes) return { ok: false, error: Errors.MESSAGE_TOO_LARGE };
    if (batch.records.length === 0 || !isValidBatch(batch)) return { ok: false, error: Errors.CORRUPT_MESSAGE };
    invariant(leaderEpoch >= 0, 'appendAsLeader needs a leader epoch ≥ 0');
    const firstOffset = this.leo;
    const stamped = stampBatch(batch, firstOffset, leaderEpoch);
    this.epochCache.assign(leaderEpoch, firstOffset);
    // RecordBatchTooLargeException; Kafka answers RECORD_LIST_TOO_LARGE (18), which protocol/errors.ts lacks.
    if (stamped.sizeBytes > this.configValue.segmentBytes) return { ok: false, error: Errors.MESSAGE_TOO_LARGE };
    const segment = this.maybeRoll(stamped.sizeBytes, stamped.maxTimestampMs, firstOffset, nowMs);
    const check = this.producerStateManager.checkClientAppend(stamped);
    if (check.kind === 'duplicate') {
      return { ok: true, firstOffset: check.firstOffset, lastOffset: check.lastOffset, duplicate: true, logStartOffset: this.logStart, flushOpId: -1 };
    }
    if (check.kind === 'error') return { ok: false, error: check.error };
    this.appendToSegment(segment, stamped, nowMs);
    return { ok: true, firstOffset, lastOffset: lastOffset(stamped), duplicate: false, logStartOffset: this.logStart, flushOpId: this.maybeFlush() };
  }

  /**
   * UnifiedLog.appendAsFollower → append(validateAndAssignOffsets = false): offsets and epochs as
   * the leader wrote them. The first batch must start at the LEO (Kafka throws
   * UnexpectedAppendOffsetException below it; a gap above it, legal in Kafka for compacted topics,
   * cannot happen here) and each batch must continue the previous one: otherwise
   * UNKNOWN_SERVER_ERROR with `unexpectedAppendOffset`, nothing written. Every batch's epoch goes
   * to the epoch cache (assign ignores non-increasing entries); one roll check for the whole
   * append, as Kafka's `maybeRoll(validRecords.sizeInBytes)`; producer state without validation.
   */
  appendAsFollower(batches: readonly RecordBatch[], nowMs: number = this.nowMsSeen): FollowerAppendResult {
    this.observeNow(nowMs);
    if (this.offline) return STORAGE_ERROR;
    if (batches.length === 0) return { ok: true, lastOffset: this.leo - 1, lastEpoch: this.epochCache.latestEpoch(), flushOpId: -1 };
    const first = batches[0];
    const last = batches[batches.length - 1];
    let expected = this.leo;
    let totalBytes = 0;
    let maxTimestampMs = -1;
    for (const batch of batches) {
      if (batch.baseOffset !== expected) {
        return { ok: false, error: Errors.UNKNOWN_SERVER_ERROR, unexpectedAppendOffset: { firstOffset: first.baseOffset, lastOffset: lastOffset(last) } };
      }
      if (batch.records.length === 0 || !isValidBatch(batch)) return { ok: false, error: Errors.CORRUPT_MESSAGE };
      // RecordBatchTooLargeException (RECORD_LIST_TOO_LARGE in Kafka, missing from protocol/errors.ts).
      // Kafka checks the whole fetched chunk against segment.bytes; per batch here, so that small
      // scenario segments (Kafka's minimum is 1 MiB) do not stall replication.
      if (batch.sizeBytes > this.configValue.segmentBytes) return { ok: false, error: Errors.MESSAGE_TOO_LARGE };
      expected = nextOffset(batch);
      totalBytes += batch.sizeBytes;
      if (batch.maxTimestampMs > maxTimestampMs) maxTimestampMs = batch.maxTimestampMs;
    }
    for (const batch of batches) {
      if (batch.partitionLeaderEpoch >= 0) this.epochCache.assign(batch.partitionLeaderEpoch, batch.baseOffset);
    }
    const segment = this.maybeRoll(totalBytes, maxTimestampMs, first.baseOffset, nowMs);
    for (const batch of batches) this.appendToSegment(segment, batch, nowMs);
    return { ok: true, lastOffset: lastOffset(last), lastEpoch: last.partitionLeaderEpoch, flushOpId: this.maybeFlush() };
  }

  // ------------------------------------------------------------------ read

  /**
   * UnifiedLog.read / LocalLog.read (REPLICATION.md §9): `startOffset` outside
   * [logStartOffset, LEO] → OFFSET_OUT_OF_RANGE; at or past `maxOffsetExclusive` (the HW for
   * consumers, the LEO for followers) → empty. Otherwise whole batches from the one containing
   * `startOffset`, from a single segment as Kafka reads, none whose last offset reaches
   * `maxOffsetExclusive` (a batch straddling the HW waits until it is entirely below it), within
   * `maxBytes` except that the first batch is always returned when `minOneBatch`.
   */
  read(startOffset: number, maxOffsetExclusive: number, maxBytes: number, minOneBatch = true): ReadResult {
    if (this.offline) return STORAGE_ERROR;
    if (startOffset > this.leo || startOffset < this.logStart) return { ok: false, error: Errors.OFFSET_OUT_OF_RANGE };
    if (startOffset >= maxOffsetExclusive) return EMPTY_READ;
    for (let i = this.floorSegmentIndex(startOffset); i < this.segs.length; i++) {
      const batches = this.segs[i].read(startOffset, maxOffsetExclusive, maxBytes, minOneBatch);
      if (batches !== null) return { ok: true, batches };
    }
    return EMPTY_READ;
  }

  // ------------------------------------------------------------------ truncation

  /**
   * UnifiedLog.truncateTo (REPLICATION.md §7.3). At or past the LEO nothing is removed, but the
   * epoch cache still drops entries at or after the LEO (an epoch a leader assigned and never
   * wrote in). Otherwise: segments above the target are deleted, the last one is cut at batch
   * granularity, the epoch cache drops entries at or after the new LEO, the log start offset and
   * recovery point are capped, producer state is rebuilt, and the HW drops to the LEO if above it.
   * Returns whether data was removed.
   */
  truncateTo(offset: number): boolean {
    if (!(Number.isSafeInteger(offset) && offset >= 0)) invariant(false, `${this.dir}: truncateTo(${offset})`);
    if (this.offline) return false;
    if (offset >= this.leo) {
      this.epochCache.truncateFromEnd(this.leo);
      return false;
    }
    if (this.segs[0].baseOffset > offset) {
      this.truncateFullyAndStartAt(offset);
      return true;
    }
    // LocalLog.truncateTo
    while (this.segs.length > 1 && this.activeSegment.baseOffset > offset) (this.segs.pop() as LogSegment).deleteFile();
    this.activeSegment.truncateTo(offset, this.nowMsSeen);
    this.leo = this.activeSegment.nextOffset;
    this.capFlushesAt(this.leo);
    this.epochCache.truncateFromEnd(this.leo);
    // Kafka: min(targetOffset, logStartOffset); the LEO is the target unless a batch straddled it.
    this.logStart = Math.min(this.leo, this.logStart);
    this.rebuildProducerState(this.leo, this.nowMsSeen);
    if (this.hw >= this.leo) this.updateHighWatermark(this.leo);
    this.checkInvariants();
    return true;
  }

  /**
   * UnifiedLog.truncateFullyAndStartAt: every segment deleted, a new empty one at `offset`, the
   * epoch cache cleared (clearAndFlush), producer state and snapshots dropped, log start offset,
   * recovery point and HW all at `offset`.
   */
  truncateFullyAndStartAt(offset: number): void {
    if (!(Number.isSafeInteger(offset) && offset >= 0)) invariant(false, `${this.dir}: truncateFullyAndStartAt(${offset})`);
    if (this.offline) return;
    for (const segment of this.segs) segment.deleteFile();
    this.segs = [LogSegment.create(this.files, this.dir, offset, this.nowMsSeen)];
    this.leo = offset;
    this.capFlushesAt(offset);
    this.epochCache.clear();
    this.snapshots.clear();
    this.producerStateManager.truncateFullyAndStartAt(offset);
    this.lastSnapOffset = 0;
    this.logStart = offset;
    this.recoveryPt = offset;
    this.rebuildProducerState(offset, this.nowMsSeen);
    this.updateHighWatermark(offset);
    this.checkInvariants();
  }

  // ------------------------------------------------------------------ high watermark, log start, epochs

  /**
   * UnifiedLog.updateHighWatermark, the follower's rule (REPLICATION.md §5.2): clamped to
   * [logStartOffset, LEO]; it may go down. Returns the new HW.
   */
  updateHighWatermark(hw: number): number {
    this.hw = hw < this.logStart ? this.logStart : hw >= this.leo ? this.leo : hw;
    return this.hw;
  }

  /** UnifiedLog.maybeIncrementHighWatermark, the leader's rule (§5.1): only upwards; above the LEO is a bug. */
  maybeIncrementHighWatermark(hw: number): boolean {
    if (hw > this.leo) invariant(false, `${this.dir}: high watermark ${hw} above the log end offset ${this.leo}`);
    if (hw <= this.hw) return false;
    this.hw = hw;
    return true;
  }

  /** UnifiedLog.assignEpochStartOffset (Partition.makeLeader records its new epoch at the LEO, KAFKA-7415). */
  assignEpochStartOffset(epoch: number, offset: number): void {
    if (this.offline) return;
    this.epochCache.assign(epoch, offset);
  }

  /** LeaderEpochFileCache.endOffsetFor(epoch, LEO); (-1, -1) is UNDEFINED (UnifiedLog.endOffsetForEpoch's empty). */
  endOffsetForEpoch(epoch: number): EpochEndOffsetLookup {
    return this.epochCache.endOffsetFor(epoch, this.leo);
  }

  /** The 0.11–1.1 lookup, for the `epochEndOffsetLookup` switch turned off. */
  endOffsetForEpochPreKip279(epoch: number): EpochEndOffsetLookup {
    return this.epochCache.endOffsetForPreKip279(epoch, this.leo);
  }

  /**
   * UnifiedLog.maybeIncrementLogStartOffset (a follower applying the leader's log start offset):
   * only upwards; above the HW Kafka throws OffsetOutOfRangeException, here the answer is
   * OFFSET_OUT_OF_RANGE and nothing changes. Returns NONE otherwise.
   */
  maybeIncrementLogStartOffset(offset: number): ErrorCode {
    if (this.offline) return Errors.KAFKA_STORAGE_ERROR;
    if (offset > this.hw) return Errors.OFFSET_OUT_OF_RANGE;
    if (offset > this.logStart) this.incrementLogStartOffset(offset);
    return Errors.NONE;
  }

  // ------------------------------------------------------------------ retention

  /**
   * UnifiedLog.deleteOldSegments for `cleanup.policy=delete` (REPLICATION.md §3.3): log start
   * offset breach, then size, then time. Only whole segments entirely below the HW go; if every
   * segment would, a new one is rolled first. The log start offset moves to the first remaining
   * segment and the epoch cache is truncated from the start. Returns the number deleted.
   */
  deleteOldSegments(nowMs: number): number {
    this.observeNow(nowMs);
    if (this.offline) return 0;
    return this.deleteLogStartOffsetBreachedSegments(nowMs) + this.deleteRetentionSizeBreachedSegments(nowMs) + this.deleteRetentionMsBreachedSegments(nowMs);
  }

  // ------------------------------------------------------------------ flush and disk completions

  /**
   * UnifiedLog.flush(LEO): fsyncs every segment holding offsets in [recoveryPoint, LEO). Returns the
   * op id of the last fsync issued (-1 if there was nothing to flush); the recovery point becomes
   * the LEO of now when all of them complete.
   *
   * One window where the op id promises too much: right after a truncation whose segment still
   * had writes in the disk queue, appends to that segment are held back until those land (see
   * log-disk.ts), and the fsync that covers them is issued then, after the returned one. The
   * recovery point is exact in every case, so "durable through offset o" is `recoveryPoint > o`.
   */
  flush(): number {
    if (this.offline) return -1;
    return this.flushUpTo(this.leo);
  }

  /**
   * Disk completions for this log's ops (the broker routes them here, or through LogManager; both
   * is harmless). Returns false for an op this log's disk view did not issue.
   */
  onDiskComplete(completion: DiskCompletion): boolean {
    return this.files.onDiskComplete(completion);
  }

  /** Marks the log deleted (LogManager.deleteLog): later operations answer KAFKA_STORAGE_ERROR or do nothing. */
  markDeleted(): void {
    this.offlineReason ??= 'log deleted';
  }

  /** The log's own invariants; cheap enough for tests and property runs, not called on the append path. */
  checkInvariants(): void {
    if (!(this.logStart <= this.hw && this.hw <= this.leo)) {
      invariant(false, `${this.dir}: log start ${this.logStart} ≤ HW ${this.hw} ≤ LEO ${this.leo} broken`);
    }
    invariant(this.recoveryPt <= this.leo, `${this.dir}: recovery point ${this.recoveryPt} above LEO ${this.leo}`);
    invariant(this.segs.length > 0, `${this.dir}: no segment`);
    invariant(this.activeSegment.nextOffset === this.leo, `${this.dir}: LEO ${this.leo} is not the active segment's end ${this.activeSegment.nextOffset}`);
    invariant(this.logStart >= this.segs[0].baseOffset, `${this.dir}: log start ${this.logStart} below the first segment ${this.segs[0].baseOffset}`);
    for (let i = 1; i < this.segs.length; i++) {
      invariant(this.segs[i - 1].nextOffset <= this.segs[i].baseOffset, `${this.dir}: segment ${this.segs[i - 1].baseOffset} overlaps ${this.segs[i].baseOffset}`);
    }
    const latest = this.epochCache.latestEntry();
    invariant(latest === undefined || latest.startOffset <= this.leo, `${this.dir}: epoch entry ${JSON.stringify(latest)} past LEO ${this.leo}`);
  }

  // ------------------------------------------------------------------ internals

  private observeNow(nowMs: number): void {
    if (nowMs > this.nowMsSeen) this.nowMsSeen = nowMs;
  }

  private appendToSegment(segment: LogSegment, batch: RecordBatch, nowMs: number): void {
    segment.append(batch, nowMs);
    this.leo = nextOffset(batch);
    this.producerStateManager.update(batch);
  }

  /** UnifiedLog.append: `if (unflushedMessages >= flush.messages) flush()`. */
  private maybeFlush(): number {
    return this.unflushedMessages >= this.configValue.flushMessages ? this.flushUpTo(this.leo) : -1;
  }

  /** UnifiedLog.maybeRoll: the active segment, or a new one at `expectedNextOffset` if it should roll. */
  private maybeRoll(messagesSizeBytes: number, maxTimestampInMessagesMs: number, expectedNextOffset: number, nowMs: number): LogSegment {
    const active = this.activeSegment;
    const shouldRoll = active.shouldRoll({
      maxSegmentBytes: this.configValue.segmentBytes,
      maxSegmentMs: this.configValue.segmentMs,
      messagesSizeBytes,
      maxTimestampInMessagesMs,
      nowMs,
    });
    return shouldRoll ? this.roll(expectedNextOffset, nowMs) : active;
  }

  /**
   * UnifiedLog.roll: a new active segment at max(expected, LEO); a producer snapshot at its base
   * offset; then the (in Kafka, scheduled) flush of everything below it, which is what moves the
   * recovery point with default configs. An empty active segment at that offset is kept instead
   * (LocalLog.roll would delete and recreate it).
   */
  private roll(expectedNextOffset: number, nowMs: number): LogSegment {
    const active = this.activeSegment;
    const newOffset = Math.max(expectedNextOffset, this.leo);
    if (active.isEmpty() && active.baseOffset === newOffset) return active;
    const segment = LogSegment.create(this.files, this.dir, newOffset, nowMs);
    this.segs.push(segment);
    this.producerStateManager.updateMapEndOffset(newOffset);
    this.takeProducerSnapshot();
    this.flushUpTo(newOffset);
    return segment;
  }

  /** LocalLog.flush(offset) + markFlushed: fsync segments with offsets in [recoveryPoint, offset). */
  private flushUpTo(offset: number): number {
    if (offset <= this.recoveryPt) return -1;
    const request: FlushRequest = { targetOffset: offset, remaining: 1 };
    let lastOpId = -1;
    for (let i = 0; i < this.segs.length; i++) {
      const segment = this.segs[i];
      const endOffset = i + 1 < this.segs.length ? this.segs[i + 1].baseOffset : this.leo;
      if (segment.baseOffset >= offset || endOffset <= this.recoveryPt) continue;
      request.remaining++;
      const opId = segment.flush(() => this.onFlushDurable(request));
      if (opId >= 0) lastOpId = opId;
    }
    if (offset > this.flushRequestedOffset) this.flushRequestedOffset = offset;
    this.flushesInFlight.add(request);
    this.onFlushDurable(request); // the initial 1 guards against completion inside the loop
    return lastOpId;
  }

  private onFlushDurable(request: FlushRequest): void {
    request.remaining--;
    if (request.remaining > 0) return;
    this.flushesInFlight.delete(request);
    const target = Math.min(request.targetOffset, this.leo);
    if (target > this.recoveryPt) this.recoveryPt = target;
  }

  /** Data at or after `offset` is gone: flushes in flight cannot vouch for it any more. */
  private capFlushesAt(offset: number): void {
    for (const request of this.flushesInFlight) if (request.targetOffset > offset) request.targetOffset = offset;
    if (this.flushRequestedOffset > offset) this.flushRequestedOffset = offset;
    if (this.recoveryPt > offset) this.recoveryPt = offset;
  }

  /** ProducerStateManager.takeSnapshot: only if the state moved past the last snapshot. */
  private takeProducerSnapshot(): void {
    const psm = this.producerStateManager;
    if (psm.mapEndOffset <= this.lastSnapOffset) return;
    this.snapshots.write(psm.snapshot());
    this.lastSnapOffset = psm.mapEndOffset;
  }

  /**
   * UnifiedLog.rebuildProducerState(lastOffset) with ProducerStateManager.truncateAndReload:
   * snapshots past `lastOffset` or at or below the log start offset are deleted; unless the state
   * is already at `lastOffset`, it is reloaded from the latest remaining snapshot (or emptied at
   * the log start offset) and the batches after it are replayed; then a snapshot at `lastOffset`.
   */
  private rebuildProducerState(lastOffsetExclusive: number, nowMs: number): void {
    const psm = this.producerStateManager;
    const logStart = this.logStart;
    this.snapshots.deleteWhere((offset) => offset > lastOffsetExclusive || offset <= logStart);
    if (lastOffsetExclusive !== psm.mapEndOffset) {
      const snapshot = this.snapshots.readLatest();
      const from = snapshot === undefined ? logStart : snapshot.offset;
      const replay = this.batchesFrom(from).filter((b) => b.baseOffset >= from && nextOffset(b) <= lastOffsetExclusive);
      psm.rebuild(replay, snapshot, logStart, { nowMs, producerIdExpirationMs: this.producerIdExpirationMs });
      this.lastSnapOffset = from;
    } else {
      this.lastSnapOffset = this.snapshots.latestOffset() ?? logStart;
    }
    psm.updateMapEndOffset(lastOffsetExclusive);
    this.takeProducerSnapshot();
  }

  /** UnifiedLog.maybeIncrementLogStartOffset after the checks, with updateLogStartOffset. */
  private incrementLogStartOffset(offset: number): void {
    this.logStart = offset;
    if (this.hw < offset) this.hw = offset;
    if (this.recoveryPt < offset) this.recoveryPt = offset;
    this.epochCache.truncateFromStart(offset);
    // ProducerStateManager.onLogStartOffsetIncremented
    this.lastSnapOffset = this.snapshots.latestOffset() ?? offset;
  }

  private deleteLogStartOffsetBreachedSegments(nowMs: number): number {
    return this.deleteSegments(this.deletableSegments((_segment, next) => next !== undefined && next.baseOffset <= this.logStart), nowMs);
  }

  private deleteRetentionSizeBreachedSegments(nowMs: number): number {
    const retentionBytes = this.configValue.retentionBytes;
    const size = this.sizeBytes;
    if (retentionBytes < 0 || size < retentionBytes) return 0;
    let diff = size - retentionBytes;
    return this.deleteSegments(
      this.deletableSegments((segment) => {
        if (diff - segment.sizeBytes < 0) return false;
        diff -= segment.sizeBytes;
        return true;
      }),
      nowMs,
    );
  }

  private deleteRetentionMsBreachedSegments(nowMs: number): number {
    const retentionMs = this.configValue.retentionMs;
    if (retentionMs < 0) return 0;
    return this.deleteSegments(this.deletableSegments((segment) => nowMs - segment.largestTimestampMs() > retentionMs), nowMs);
  }

  /** UnifiedLog.deletableSegments: oldest first, stop at the first that fails; only segments entirely below the HW. */
  private deletableSegments(predicate: (segment: LogSegment, next: LogSegment | undefined) => boolean): LogSegment[] {
    const deletable: LogSegment[] = [];
    for (let i = 0; i < this.segs.length; i++) {
      const segment = this.segs[i];
      const next = this.segs[i + 1];
      const isLastSegmentAndEmpty = next === undefined && segment.sizeBytes === 0;
      const upperBoundOffset = next === undefined ? this.leo : next.baseOffset;
      if (this.hw >= upperBoundOffset && predicate(segment, next) && !isLastSegmentAndEmpty) deletable.push(segment);
      else break;
    }
    return deletable;
  }

  /** UnifiedLog.deleteSegments: roll first if all would go; delete files and their snapshots; move the log start. */
  private deleteSegments(deletable: readonly LogSegment[], nowMs: number): number {
    if (deletable.length === 0) return 0;
    if (deletable.length === this.segs.length) this.roll(this.leo, nowMs);
    this.segs = this.segs.slice(deletable.length);
    for (const segment of deletable) {
      segment.deleteFile();
      this.snapshots.delete(segment.baseOffset);
    }
    const newLogStart = this.segs[0].baseOffset;
    invariant(newLogStart <= this.hw, 'retention deleted a segment above the high watermark');
    if (newLogStart > this.logStart) this.incrementLogStartOffset(newLogStart);
    this.checkInvariants();
    return deletable.length;
  }

  /** Index of the last segment with baseOffset ≤ offset (LogSegments.floorSegment), or 0. */
  private floorSegmentIndex(offset: number): number {
    let lo = 0;
    let hi = this.segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.segs[mid].baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  // ------------------------------------------------------------------ loading

  /** LogLoader.load / recoverLog with no clean-shutdown marker (REPLICATION.md §3.5). */
  private static recover(options: UnifiedLogLoadOptions, files: LogDisk, dir: string): UnifiedLog {
    const segmentBases: number[] = [];
    const snapshotOffsets: number[] = [];
    for (const name of files.list(`${dir}/`)) {
      const parsed = parseOffsetFile(dir, name);
      if (parsed === undefined) continue;
      if (parsed.kind === 'log') segmentBases.push(parsed.offset);
      else snapshotOffsets.push(parsed.offset);
    }
    segmentBases.sort((a, b) => a - b);
    const epochCache = LeaderEpochFileCache.load(files, epochCheckpointFileName(dir));
    const snapshots = new ProducerSnapshotFiles(files, dir, snapshotOffsets);
    const nowMs = options.nowMs;
    let segments: LogSegment[] = [];

    // Segments below the one holding the recovery point are trusted, as in Kafka; from it on,
    // every batch is checked (LogSegment.recover).
    let recoverFrom = 0;
    for (let i = 0; i < segmentBases.length; i++) if (segmentBases[i] <= options.recoveryPoint) recoverFrom = i;
    for (let i = 0; i < segmentBases.length; i++) {
      const base = segmentBases[i];
      const file = segmentFileName(dir, base);
      const result = files.read(file);
      if (!result.ok) {
        if (result.error === 'EIO') throw new KafkaStorageException(`cannot read ${file}: EIO`);
        continue;
      }
      const chunks = result.chunks;
      const headerChunks = chunks.length > 0 && chunks[0].payload === SEGMENT_FILE_HEADER ? 1 : 0;
      const recovered = recoverSegment(chunks, headerChunks, base, i >= recoverFrom ? epochCache : undefined);
      segments.push(LogSegment.open(files, dir, base, nowMs, recovered.batches, headerChunks));
      if (recovered.validChunks < chunks.length) {
        // LogLoader.recoverLog: truncate the bad segment and delete every later one.
        files.truncate(file, recovered.validChunks);
        for (let j = i + 1; j < segmentBases.length; j++) files.delete(segmentFileName(dir, segmentBases[j]));
        break;
      }
    }

    const logStartOffsetCheckpoint = options.logStartOffsetCheckpoint;
    if (segments.length > 0 && segments[segments.length - 1].nextOffset < logStartOffsetCheckpoint) {
      // The log ends before the checkpointed log start: start over there.
      for (const segment of segments) segment.deleteFile();
      segments = [];
      epochCache.clear();
      snapshots.clear();
    }
    if (segments.length === 0) segments.push(LogSegment.create(files, dir, logStartOffsetCheckpoint, nowMs));
    const logEndOffset = segments[segments.length - 1].nextOffset;
    // A checkpoint written before an asynchronous truncation may be stale (LogLoader).
    epochCache.truncateFromEnd(logEndOffset);
    epochCache.truncateFromStart(logStartOffsetCheckpoint);
    const log = new UnifiedLog({
      topic: options.topic,
      partition: options.partition,
      config: options.config,
      files,
      segments,
      epochCache,
      snapshots,
      logStartOffset: Math.max(logStartOffsetCheckpoint, segments[0].baseOffset),
      recoveryPoint: options.recoveryPoint,
      nowMs,
      producerIdExpirationMs: options.producerIdExpirationMs ?? DEFAULT_PRODUCER_ID_EXPIRATION_MS,
    });
    log.rebuildProducerState(logEndOffset, nowMs);
    // Partition.createLog: the checkpointed HW, clamped.
    log.updateHighWatermark(options.highWatermarkCheckpoint);
    log.checkInvariants();
    return log;
  }

  private static offlineLog(options: UnifiedLogLoadOptions, files: LogDisk, dir: string, reason: string): UnifiedLog {
    const start = options.logStartOffsetCheckpoint;
    const log = new UnifiedLog({
      topic: options.topic,
      partition: options.partition,
      config: options.config,
      files,
      segments: [LogSegment.detached(files, dir, start, options.nowMs)],
      epochCache: new LeaderEpochFileCache(files, epochCheckpointFileName(dir)),
      snapshots: new ProducerSnapshotFiles(files, dir, []),
      logStartOffset: start,
      recoveryPoint: start,
      nowMs: options.nowMs,
      producerIdExpirationMs: options.producerIdExpirationMs ?? DEFAULT_PRODUCER_ID_EXPIRATION_MS,
    });
    log.offlineReason = reason;
    return log;
  }
}

const EMPTY_READ: ReadResult = Object.freeze({ ok: true as const, batches: Object.freeze([]) as readonly RecordBatch[] });

/**
 * LogSegment.recover over a segment file's chunks: each batch must be whole (not torn), pass its
 * checksum (ensureValid) and not go back in offsets (the simulator's stand-in for Kafka's offset
 * checks). With an epoch cache (the segment is being recovered, not trusted), a v2 batch whose
 * epoch is newer than the cache's latest is assigned. A trusted segment (no cache) is taken as
 * is, except that a chunk the disk reports torn or corrupt, or that is not a batch at all, still
 * stops it: such bytes cannot be represented as a batch (Kafka would fail when it first read them).
 */
function recoverSegment(
  chunks: readonly { payload: unknown; torn?: boolean; corrupt?: boolean }[],
  headerChunks: number,
  baseOffset: number,
  epochCache: LeaderEpochFileCache | undefined,
): { batches: RecordBatch[]; validChunks: number } {
  const batches: RecordBatch[] = [];
  let expected = baseOffset;
  for (let i = headerChunks; i < chunks.length; i++) {
    const chunk = chunks[i];
    const batch = chunk.payload;
    if (chunk.torn === true || chunk.corrupt === true || !isRecordBatch(batch) || batch.baseOffset < expected) {
      return { batches, validChunks: i };
    }
    if (epochCache !== undefined) {
      if (!isValidBatch(batch)) return { batches, validChunks: i };
      const epoch = batch.partitionLeaderEpoch;
      if (epoch >= 0 && (epochCache.isEmpty() || epoch > epochCache.latestEpoch())) epochCache.assign(epoch, batch.baseOffset);
    }
    batches.push(batch);
    expected = nextOffset(batch);
  }
  return { batches, validChunks: chunks.length };
}

function isRecordBatch(payload: unknown): payload is RecordBatch {
  if (payload === null || typeof payload !== 'object') return false;
  const batch = payload as Partial<RecordBatch>;
  return typeof batch.baseOffset === 'number' && Array.isArray(batch.records) && batch.records.length > 0 && typeof batch.sizeBytes === 'number';
}
