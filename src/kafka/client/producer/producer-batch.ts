/**
 * A batch of records for one partition, from the moment the accumulator opens it until every
 * record in it is acknowledged or failed (apache/kafka clients/.../producer/internals/
 * ProducerBatch.java). It carries the producer id, epoch and base sequence once the sender
 * drains it for an idempotent producer, and keeps them across retries.
 */
import { invariant } from '../../../engine/errors.js';
import { BATCH_OVERHEAD_BYTES, makeBatch, NO_PARTITION_LEADER_EPOCH, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE, type KafkaRecord, type RecordBatch } from '../../protocol/records.js';
import { tpKey } from '../../protocol/topic-partition.js';
import type { FailureOutcome, SendHandle } from './send-handle.js';

/** Per-record framing in a v2 batch, as protocol/records.ts's makeBatch counts it. */
const RECORD_OVERHEAD_BYTES = 8;

/** The bytes a record adds to a batch (DefaultRecord.sizeInBytes, simplified as makeBatch does). */
export function recordSizeBytes(key: string | null, value: string): number {
  return RECORD_OVERHEAD_BYTES + (key === null ? 0 : key.length) + value.length;
}

/** AbstractRecords.estimateSizeInBytesUpperBound for one record: a batch holding only it. */
export function singleRecordBatchSizeBytes(key: string | null, value: string): number {
  return BATCH_OVERHEAD_BYTES + recordSizeBytes(key, value);
}

export interface ProducerIdAndEpoch {
  readonly producerId: number;
  readonly epoch: number;
}

export const NO_PRODUCER_ID_AND_EPOCH: ProducerIdAndEpoch = Object.freeze({ producerId: NO_PRODUCER_ID, epoch: NO_PRODUCER_EPOCH });

export class ProducerBatch {
  readonly key: string;
  readonly records: KafkaRecord[] = [];
  readonly handles: SendHandle[] = [];
  /** The bytes the batch takes in a request: the v2 header plus its records. */
  estimatedSizeBytes = BATCH_OVERHEAD_BYTES;
  attempts = 0;
  lastAttemptMs: number;
  lastAppendMs: number;
  drainedMs = -1;
  /** ProducerBatch.retry: it was re-enqueued at least once. */
  inRetry = false;
  /** The backoff before the next attempt, drawn once per re-enqueue (ExponentialBackoff with jitter). */
  retryBackoffMs = 0;
  producerId = NO_PRODUCER_ID;
  producerEpoch = NO_PRODUCER_EPOCH;
  baseSequence = NO_SEQUENCE;
  sequenceHasBeenReset = false;
  /** ProducerBatch.currentLeaderEpoch and attemptsWhenLeaderLastChanged (KIP-951 retry without backoff). */
  private currentLeaderEpoch: number | undefined;
  private attemptsWhenLeaderLastChanged = 0;
  /** Closed for appends once drained (ProducerBatch.close). */
  closed = false;
  private finalState: 'succeeded' | 'failed' | undefined;
  /**
   * True once any attempt may have been appended on a broker: a request whose answer was lost or
   * timed out, or an error a broker gives after appending. Decides `fail` against `info`.
   */
  possiblyWritten = false;
  /** The latest attempt was sent and has not been answered yet. */
  attemptInFlight = false;

  constructor(
    readonly topic: string,
    readonly partition: number,
    /** Bytes the records may fill before the batch is full: `batch.size` (writeLimit). */
    readonly capacityBytes: number,
    /** Bytes taken from buffer.memory for this batch, given back when it completes. */
    readonly allocatedBytes: number,
    readonly createdMs: number,
  ) {
    this.key = tpKey(topic, partition);
    this.lastAttemptMs = createdMs;
    this.lastAppendMs = createdMs;
  }

  get recordCount(): number {
    return this.records.length;
  }

  get isDone(): boolean {
    return this.finalState !== undefined;
  }

  get hasSequence(): boolean {
    return this.baseSequence !== NO_SEQUENCE;
  }

  get lastSequence(): number {
    invariant(this.hasSequence, `batch for ${this.key} has no sequence`);
    const last = this.baseSequence + this.recordCount - 1;
    return last > 2_147_483_647 ? last - 2_147_483_648 : last;
  }

  /** ProducerBatch.tryAppend: false when the batch is closed or the record would overflow it. */
  tryAppend(record: KafkaRecord, handle: SendHandle, nowMs: number): boolean {
    if (this.closed) return false;
    const size = recordSizeBytes(record.key, record.value);
    // MemoryRecordsBuilder.hasRoomFor: the first record always fits.
    if (this.records.length > 0 && this.estimatedSizeBytes + size > this.capacityBytes) return false;
    this.records.push(record);
    this.handles.push(handle);
    this.estimatedSizeBytes += size;
    this.lastAppendMs = nowMs;
    handle.partition = this.partition;
    return true;
  }

  /** MemoryRecordsBuilder.isFull: closed, or at or past its write limit. */
  isFull(): boolean {
    return this.closed || (this.records.length > 0 && this.estimatedSizeBytes >= this.capacityBytes);
  }

  /** ProducerBatch.hasReachedDeliveryTimeout. */
  hasReachedDeliveryTimeout(deliveryTimeoutMs: number, nowMs: number): boolean {
    return deliveryTimeoutMs <= nowMs - this.createdMs;
  }

  waitedTimeMs(nowMs: number): number {
    return Math.max(0, nowMs - this.lastAttemptMs);
  }

  /** ProducerBatch.reenqueued. */
  reenqueued(nowMs: number, backoffMs: number): void {
    this.attempts++;
    this.lastAttemptMs = Math.max(this.lastAppendMs, nowMs);
    this.lastAppendMs = Math.max(this.lastAppendMs, nowMs);
    this.inRetry = true;
    this.retryBackoffMs = backoffMs;
  }

  drained(nowMs: number): void {
    this.drainedMs = Math.max(this.drainedMs, nowMs);
    this.closed = true;
  }

  /** ProducerBatch.maybeUpdateLeaderEpoch. */
  maybeUpdateLeaderEpoch(leaderEpoch: number | undefined): void {
    if (leaderEpoch !== undefined && (this.currentLeaderEpoch === undefined || this.currentLeaderEpoch < leaderEpoch)) {
      this.attemptsWhenLeaderLastChanged = this.attempts;
      this.currentLeaderEpoch = leaderEpoch;
    }
  }

  /** ProducerBatch.hasLeaderChangedForTheOngoingRetry: a retry to a new leader skips the backoff. */
  hasLeaderChangedForTheOngoingRetry(): boolean {
    return this.attempts >= 1 && this.attempts === this.attemptsWhenLeaderLastChanged;
  }

  setProducerState(pid: ProducerIdAndEpoch, baseSequence: number): void {
    this.producerId = pid.producerId;
    this.producerEpoch = pid.epoch;
    this.baseSequence = baseSequence;
  }

  /** ProducerBatch.resetProducerState: new id/epoch/sequence after an epoch bump. */
  resetProducerState(pid: ProducerIdAndEpoch, baseSequence: number): void {
    this.sequenceHasBeenReset = true;
    this.setProducerState(pid, baseSequence);
  }

  /** The batch as it goes on the wire. */
  toRecordBatch(): RecordBatch {
    const batch = makeBatch({
      baseOffset: 0,
      partitionLeaderEpoch: NO_PARTITION_LEADER_EPOCH,
      producerId: this.producerId,
      producerEpoch: this.producerEpoch,
      baseSequence: this.baseSequence,
      records: this.records,
    });
    invariant(batch.sizeBytes === this.estimatedSizeBytes, `batch ${this.key}: size ${batch.sizeBytes} differs from the estimate ${this.estimatedSizeBytes}`);
    return batch;
  }

  /**
   * ProducerBatch.done, succeeded: each record gets baseOffset + its index (-1 stays -1). Returns
   * false if the batch was already completed (an expired batch whose response came later).
   */
  succeed(baseOffset: number, nowMs: number): boolean {
    if (this.finalState !== undefined) return false;
    this.finalState = 'succeeded';
    this.handles.forEach((h, i) => h.succeed(this.partition, baseOffset < 0 ? -1 : baseOffset + i, nowMs));
    return true;
  }

  /** ProducerBatch.done, failed. Returns false if the batch was already completed. */
  fail(error: string, nowMs: number): boolean {
    if (this.finalState !== undefined) return false;
    this.finalState = 'failed';
    const outcome: FailureOutcome = this.possiblyWritten || this.attemptInFlight ? 'info' : 'fail';
    for (const h of this.handles) h.fail(error, outcome, nowMs);
    return true;
  }
}
