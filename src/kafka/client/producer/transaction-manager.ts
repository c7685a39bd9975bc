/**
 * The idempotent producer's bookkeeping: its producer id and epoch, and per partition the next
 * sequence, the last acknowledged sequence and offset, and the batches in flight by sequence.
 * A port of the non-transactional half of apache/kafka clients/.../producer/internals/
 * TransactionManager.java (with TxnPartitionMap / TxnPartitionEntry); transactions are out of
 * scope.
 *
 * How current Kafka recovers an idempotent producer (KIP-360):
 * - OUT_OF_ORDER_SEQUENCE_NUMBER for the batch right after the last acknowledged one means a real
 *   gap: the producer bumps its epoch locally and restarts the partition's sequences at 0; for a
 *   later batch it is only a consequence of an earlier failure and is retried as is (`canRetry`).
 * - UNKNOWN_PRODUCER_ID (the broker lost the producer's state) is retried, with an epoch bump.
 * - A batch that fails for good after it may have been written leaves the partition's sequence
 *   unresolved; once nothing is in flight there, the epoch is bumped unless the acknowledged
 *   sequences caught up (`maybeResolveSequences`).
 * - The epoch is bumped on the client, without a request (`bumpIdempotentProducerEpoch`); only an
 *   exhausted epoch (32767) asks for a new producer id with InitProducerId.
 */
import { invariant } from '../../../engine/errors.js';
import { Errors } from '../../protocol/errors.js';
import { NO_SEQUENCE } from '../../protocol/records.js';
import { NO_PRODUCER_ID_AND_EPOCH, type ProducerBatch, type ProducerIdAndEpoch } from './producer-batch.js';

/** TxnPartitionEntry.NO_LAST_ACKED_SEQUENCE_NUMBER. */
const NO_LAST_ACKED_SEQUENCE_NUMBER = -1;
const SHORT_MAX = 32_767;
const INT_MAX = 2_147_483_647;

/** What the producer knows of one partition (TxnPartitionEntry). */
class TxnPartitionEntry {
  nextSequence = 0;
  lastAckedSequence = NO_LAST_ACKED_SEQUENCE_NUMBER;
  lastAckedOffset = -1;
  /** In flight (drained, not yet completed), by base sequence. */
  inflightBatchesBySequence: ProducerBatch[] = [];

  constructor(public producerIdAndEpoch: ProducerIdAndEpoch) {}

  addInflight(batch: ProducerBatch): void {
    const list = this.inflightBatchesBySequence;
    if (list.includes(batch)) return;
    let i = list.length;
    while (i > 0 && list[i - 1].baseSequence > batch.baseSequence) i--;
    list.splice(i, 0, batch);
  }

  removeInflight(batch: ProducerBatch): void {
    const i = this.inflightBatchesBySequence.indexOf(batch);
    if (i >= 0) this.inflightBatchesBySequence.splice(i, 1);
  }

  /** TxnPartitionEntry.startSequencesAtBeginning: in-flight batches are renumbered from 0. */
  startSequencesAtBeginning(pid: ProducerIdAndEpoch): void {
    let sequence = 0;
    for (const batch of this.inflightBatchesBySequence) {
      batch.resetProducerState(pid, sequence);
      sequence += batch.recordCount;
    }
    this.producerIdAndEpoch = pid;
    this.nextSequence = sequence;
    this.lastAckedSequence = NO_LAST_ACKED_SEQUENCE_NUMBER;
  }
}

/** The produce outcome the manager needs: the error and the partition's log start offset. */
export interface PartitionOutcome {
  readonly error: number;
  readonly baseOffset: number;
  readonly logStartOffset: number;
}

/** Why a batch failed, as the manager distinguishes it (the Java exception classes). */
export type FailureKind = 'out-of-order-sequence' | 'unknown-producer-id' | 'other';

type State = 'UNINITIALIZED' | 'INITIALIZING' | 'READY';

export class TransactionManager {
  private producerIdAndEpochValue: ProducerIdAndEpoch = NO_PRODUCER_ID_AND_EPOCH;
  private state: State = 'UNINITIALIZED';
  private readonly partitions = new Map<string, TxnPartitionEntry>();
  /** Partition → the next sequence expected once its unresolved batches settle. */
  private readonly partitionsWithUnresolvedSequences = new Map<string, number>();
  private readonly partitionsToRewriteSequences = new Set<string>();
  private epochBumpRequired = false;
  /** Epoch bumps so far, for tests and reports. */
  epochBumps = 0;

  producerIdAndEpoch(): ProducerIdAndEpoch {
    return this.producerIdAndEpochValue;
  }

  hasProducerId(): boolean {
    return this.producerIdAndEpochValue.producerId >= 0 && this.producerIdAndEpochValue.epoch >= 0;
  }

  /**
   * TransactionManager.bumpIdempotentEpochAndResetIdIfNeeded, run at the start of every sender
   * loop. Returns true when an InitProducerId request must be sent.
   */
  bumpIdempotentEpochAndResetIdIfNeeded(): boolean {
    if (this.epochBumpRequired) this.bumpIdempotentProducerEpoch();
    if (this.state !== 'INITIALIZING' && !this.hasProducerId()) {
      this.state = 'INITIALIZING';
      return true;
    }
    return false;
  }

  /** InitProducerIdHandler.handleResponse, error NONE. */
  initProducerIdSucceeded(pid: ProducerIdAndEpoch): void {
    invariant(this.state === 'INITIALIZING', `InitProducerId answered in state ${this.state}`);
    this.producerIdAndEpochValue = pid;
    this.state = 'READY';
  }

  // ------------------------------------------------------------ sequences

  sequenceNumber(tp: string): number {
    return this.getOrCreate(tp).nextSequence;
  }

  incrementSequenceNumber(tp: string, increment: number): void {
    const entry = this.get(tp);
    // DefaultRecordBatch.incrementSequence: sequences wrap after Integer.MAX_VALUE.
    const next = entry.nextSequence + increment;
    entry.nextSequence = next > INT_MAX ? next - INT_MAX - 1 : next;
  }

  addInFlightBatch(batch: ProducerBatch): void {
    invariant(batch.hasSequence, `cannot track batch for ${batch.key} without a sequence`);
    this.get(batch.key).addInflight(batch);
  }

  removeInFlightBatch(batch: ProducerBatch): void {
    this.partitions.get(batch.key)?.removeInflight(batch);
  }

  hasInflightBatches(tp: string): boolean {
    return this.getOrCreate(tp).inflightBatchesBySequence.length > 0;
  }

  firstInFlightSequence(tp: string): number {
    const list = this.getOrCreate(tp).inflightBatchesBySequence;
    return list.length === 0 ? NO_SEQUENCE : list[0].baseSequence;
  }

  hasStaleProducerIdAndEpoch(tp: string): boolean {
    const pid = this.getOrCreate(tp).producerIdAndEpoch;
    return pid.producerId !== this.producerIdAndEpochValue.producerId || pid.epoch !== this.producerIdAndEpochValue.epoch;
  }

  hasUnresolvedSequence(tp: string): boolean {
    return this.partitionsWithUnresolvedSequences.has(tp);
  }

  /** TransactionManager.maybeUpdateProducerIdAndEpoch: a partition with nothing in flight adopts a new epoch at sequence 0. */
  maybeUpdateProducerIdAndEpoch(tp: string): void {
    if (this.hasStaleProducerIdAndEpoch(tp) && !this.hasInflightBatches(tp)) {
      this.getOrCreate(tp).startSequencesAtBeginning(this.producerIdAndEpochValue);
    }
  }

  lastAckedSequence(tp: string): number {
    return this.partitions.get(tp)?.lastAckedSequence ?? NO_LAST_ACKED_SEQUENCE_NUMBER;
  }

  lastAckedOffset(tp: string): number {
    return this.partitions.get(tp)?.lastAckedOffset ?? -1;
  }

  // ------------------------------------------------------------ batch outcomes

  /** TransactionManager.handleCompletedBatch. */
  handleCompletedBatch(batch: ProducerBatch, response: PartitionOutcome): void {
    const entry = this.partitions.get(batch.key);
    if (batch.hasSequence) {
      if (entry === undefined) this.partitions.set(batch.key, new TxnPartitionEntry(this.producerIdAndEpochValue));
      const e = this.get(batch.key);
      if (batch.lastSequence > e.lastAckedSequence) e.lastAckedSequence = batch.lastSequence;
      if (response.baseOffset >= 0) {
        const lastOffset = response.baseOffset + batch.recordCount - 1;
        if (lastOffset > e.lastAckedOffset) e.lastAckedOffset = lastOffset;
      }
    }
    this.removeInFlightBatch(batch);
  }

  /**
   * TransactionManager.handleFailedBatch for an idempotent producer: OutOfOrderSequence, or any
   * failure after which the sequence may be off (`adjustSequenceNumbers`), bumps the epoch for the
   * partition; UnknownProducerId forgets the partition's sequences.
   */
  handleFailedBatch(batch: ProducerBatch, kind: FailureKind, adjustSequenceNumbers: boolean): void {
    this.removeInFlightBatch(batch);
    if (kind === 'out-of-order-sequence') this.requestEpochBumpForPartition(batch.key);
    else if (kind === 'unknown-producer-id') this.resetSequenceForPartition(batch.key);
    else if (adjustSequenceNumbers) this.requestEpochBumpForPartition(batch.key);
  }

  /** TransactionManager.canRetry, for an idempotent producer (`retriable` is the error's RetriableException test). */
  canRetry(response: PartitionOutcome, batch: ProducerBatch, retriable: boolean): boolean {
    const tp = batch.key;
    if (response.error === Errors.UNKNOWN_PRODUCER_ID) {
      if (response.logStartOffset === -1) return true;
      if (batch.sequenceHasBeenReset) return true;
      // The head of the log was removed (retention), or the state was lost otherwise: either way,
      // an idempotent producer bumps the epoch and retries.
      this.requestEpochBumpForPartition(tp);
      return true;
    }
    if (response.error === Errors.OUT_OF_ORDER_SEQUENCE_NUMBER) {
      if (!this.hasUnresolvedSequence(tp) && (batch.sequenceHasBeenReset || !this.isNextSequence(tp, batch.baseSequence))) {
        // Not the batch right after the last acknowledged one: an earlier batch failed first.
        return true;
      }
      if (!this.hasUnresolvedSequence(tp) || this.isNextSequenceForUnresolvedPartition(tp, batch.baseSequence)) {
        this.requestEpochBumpForPartition(tp);
      }
      return true;
    }
    return retriable;
  }

  /** TransactionManager.markSequenceUnresolved: an expired batch had been sent; its fate is unknown. */
  markSequenceUnresolved(batch: ProducerBatch): void {
    const next = batch.lastSequence + 1;
    const current = this.partitionsWithUnresolvedSequences.get(batch.key);
    this.partitionsWithUnresolvedSequences.set(batch.key, current === undefined ? next : Math.max(current, next));
  }

  /**
   * TransactionManager.maybeResolveSequences: once an unresolved partition has nothing in flight,
   * it is resolved if the acknowledged sequences reached the next sequence; otherwise the epoch is
   * bumped.
   */
  maybeResolveSequences(): void {
    for (const tp of [...this.partitionsWithUnresolvedSequences.keys()]) {
      if (this.hasInflightBatches(tp)) continue;
      if (!this.isNextSequence(tp, this.sequenceNumber(tp))) this.requestEpochBumpForPartition(tp);
      this.partitionsWithUnresolvedSequences.delete(tp);
    }
  }

  private isNextSequence(tp: string, sequence: number): boolean {
    return sequence - this.lastAckedSequence(tp) === 1;
  }

  private isNextSequenceForUnresolvedPartition(tp: string, sequence: number): boolean {
    return this.partitionsWithUnresolvedSequences.get(tp) === sequence;
  }

  private requestEpochBumpForPartition(tp: string): void {
    this.epochBumpRequired = true;
    this.partitionsToRewriteSequences.add(tp);
  }

  private resetSequenceForPartition(tp: string): void {
    this.partitions.delete(tp);
    this.partitionsWithUnresolvedSequences.delete(tp);
  }

  /** TransactionManager.bumpIdempotentProducerEpoch. */
  private bumpIdempotentProducerEpoch(): void {
    if (this.producerIdAndEpochValue.epoch === SHORT_MAX) {
      // resetIdempotentProducerId: the epoch is exhausted; get a new producer id.
      this.producerIdAndEpochValue = NO_PRODUCER_ID_AND_EPOCH;
      this.state = 'UNINITIALIZED';
    } else {
      this.producerIdAndEpochValue = { producerId: this.producerIdAndEpochValue.producerId, epoch: this.producerIdAndEpochValue.epoch + 1 };
    }
    this.epochBumps++;
    for (const tp of this.partitionsToRewriteSequences) {
      this.getOrCreate(tp).startSequencesAtBeginning(this.producerIdAndEpochValue);
      this.partitionsWithUnresolvedSequences.delete(tp);
    }
    this.partitionsToRewriteSequences.clear();
    this.epochBumpRequired = false;
  }

  private get(tp: string): TxnPartitionEntry {
    const entry = this.partitions.get(tp);
    invariant(entry !== undefined, `no sequence bookkeeping for ${tp}`);
    return entry;
  }

  private getOrCreate(tp: string): TxnPartitionEntry {
    let entry = this.partitions.get(tp);
    if (entry === undefined) {
      entry = new TxnPartitionEntry(this.producerIdAndEpochValue);
      this.partitions.set(tp, entry);
    }
    return entry;
  }
}
