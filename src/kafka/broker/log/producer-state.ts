import { invariant } from '../../../engine/errors.js';
import { Errors, type ErrorCode } from '../../protocol/errors.js';
import { lastOffset, lastSequence, NO_PRODUCER_EPOCH, NO_SEQUENCE, nextOffset, type RecordBatch } from '../../protocol/records.js';

/** ProducerStateEntry.NUM_BATCHES_TO_RETAIN: the batches kept per producer for duplicate detection. */
export const NUM_BATCHES_TO_RETAIN = 5;
/** `producer.id.expiration.ms` default (REPLICATION.md §1; recalled, not re-read). */
export const DEFAULT_PRODUCER_ID_EXPIRATION_MS = 86_400_000;
const INT_MAX = 2_147_483_647;

/** BatchMetadata: one appended batch of a producer. */
export interface BatchMetadata {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly timestampMs: number;
}

/** ProducerStateEntry (without transaction fields: transactions are out of scope). */
export interface ProducerStateEntry {
  readonly producerId: number;
  readonly producerEpoch: number;
  /** Oldest first, at most NUM_BATCHES_TO_RETAIN. */
  readonly batches: readonly BatchMetadata[];
  readonly lastTimestampMs: number;
}

/** The outcome of validating a client's batch (UnifiedLog.analyzeAndValidateProducerState, CLIENT origin). */
export type ClientAppendCheck =
  | { readonly kind: 'ok' }
  | { readonly kind: 'duplicate'; readonly firstOffset: number; readonly lastOffset: number }
  | { readonly kind: 'error'; readonly error: ErrorCode };

/**
 * One producer in a snapshot file. As in Kafka's snapshot format (ProducerStateManager.writeSnapshot:
 * ProducerId, ProducerEpoch, LastSequence, LastOffset, OffsetDelta, Timestamp), only the producer's
 * last batch is kept: after a reload from a snapshot, a retry of an older cached batch is no longer
 * recognised as a duplicate.
 */
export interface ProducerSnapshotEntry {
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly lastSequence: number;
  readonly lastOffset: number;
  readonly offsetDelta: number;
  readonly timestampMs: number;
}

/** The content of a `<offset>.snapshot` file: the producer state as of `offset` (exclusive). A plain value. */
export interface ProducerSnapshot {
  readonly offset: number;
  readonly producers: readonly ProducerSnapshotEntry[];
}

interface MutableEntry {
  readonly producerId: number;
  producerEpoch: number;
  batches: BatchMetadata[];
  lastTimestampMs: number;
}

/** The snapshot's size on disk: a header and a fixed-size record per producer, as Kafka's format. */
export function producerSnapshotSizeBytes(snapshot: ProducerSnapshot): number {
  return 10 + snapshot.producers.length * 38;
}

/**
 * Per-partition idempotent producer state (ProducerStateManager, ProducerAppendInfo,
 * ProducerStateEntry): for every producer id its epoch and its last five batches, enough to
 * recognise a retried batch and to check sequence numbers (REPLICATION.md §8.4). Transactions are
 * out of scope. Pure in-memory state: the log writes snapshots to files.
 */
export class ProducerStateManager {
  private readonly producers = new Map<number, MutableEntry>();
  /** lastMapOffset: the offset up to which the state reflects the log (exclusive). */
  private mapEnd: number;

  constructor(mapEndOffset = 0) {
    this.mapEnd = mapEndOffset;
  }

  static fromSnapshot(snapshot: ProducerSnapshot, expiry?: { nowMs: number; producerIdExpirationMs: number }): ProducerStateManager {
    const manager = new ProducerStateManager(snapshot.offset);
    manager.loadSnapshotEntries(snapshot, expiry);
    return manager;
  }

  get mapEndOffset(): number {
    return this.mapEnd;
  }

  updateMapEndOffset(offset: number): void {
    this.mapEnd = offset;
  }

  isEmpty(): boolean {
    return this.producers.size === 0;
  }

  get producerCount(): number {
    return this.producers.size;
  }

  lastEntry(producerId: number): ProducerStateEntry | undefined {
    return this.producers.get(producerId);
  }

  /** Every producer, by id, as plain values. */
  entries(): ProducerStateEntry[] {
    return [...this.producers.values()]
      .sort((a, b) => a.producerId - b.producerId)
      .map((e) => ({ producerId: e.producerId, producerEpoch: e.producerEpoch, batches: e.batches.slice(), lastTimestampMs: e.lastTimestampMs }));
  }

  /**
   * Validation of a client's batch, in Kafka's order: duplicate detection first
   * (ProducerStateEntry.findDuplicateBatch: same epoch and exactly the same sequence range as a
   * cached batch → the original offsets, nothing written), then ProducerAppendInfo.checkProducerEpoch
   * and checkSequence. Batches without a producer id skip all of it.
   */
  checkClientAppend(batch: RecordBatch): ClientAppendCheck {
    if (batch.producerId < 0) return OK;
    const entry = this.producers.get(batch.producerId);
    if (entry !== undefined && batch.producerEpoch === entry.producerEpoch) {
      const lastSeq = lastSequence(batch);
      for (const cached of entry.batches) {
        if (cached.firstSeq === batch.baseSequence && cached.lastSeq === lastSeq) {
          return { kind: 'duplicate', firstOffset: cached.firstOffset, lastOffset: cached.lastOffset };
        }
      }
    }
    const currentEpoch = entry === undefined ? NO_PRODUCER_EPOCH : entry.producerEpoch;
    if (batch.producerEpoch < currentEpoch) return INVALID_PRODUCER_EPOCH;
    if (batch.producerEpoch !== currentEpoch) {
      // A new epoch must start at sequence 0; an unknown producer (no state) may start anywhere (KIP-360).
      if (batch.baseSequence !== 0 && currentEpoch !== NO_PRODUCER_EPOCH) return OUT_OF_ORDER_SEQUENCE;
      return OK;
    }
    // Same epoch. No epoch at all (state lost to retention or DeleteRecords) accepts any sequence.
    if (entry === undefined || currentEpoch === NO_PRODUCER_EPOCH) return OK;
    const entryBatches = entry.batches;
    const currentLastSeq = entryBatches.length === 0 ? NO_SEQUENCE : entryBatches[entryBatches.length - 1].lastSeq;
    return inSequence(currentLastSeq, batch.baseSequence) ? OK : OUT_OF_ORDER_SEQUENCE;
  }

  /**
   * Records an appended batch (both origins; ProducerAppendInfo.appendDataBatch then
   * ProducerStateManager.update): an epoch change clears the cached batches
   * (maybeUpdateProducerEpoch), the oldest of five is evicted. Advances the map end offset.
   */
  update(batch: RecordBatch): void {
    const end = nextOffset(batch);
    if (end > this.mapEnd) this.mapEnd = end;
    if (batch.producerId < 0) return;
    let entry = this.producers.get(batch.producerId);
    if (entry === undefined) {
      entry = { producerId: batch.producerId, producerEpoch: NO_PRODUCER_EPOCH, batches: [], lastTimestampMs: -1 };
      this.producers.set(batch.producerId, entry);
    }
    if (entry.producerEpoch !== batch.producerEpoch) {
      entry.batches = [];
      entry.producerEpoch = batch.producerEpoch;
    }
    if (entry.batches.length === NUM_BATCHES_TO_RETAIN) entry.batches.shift();
    entry.batches.push({
      firstSeq: batch.baseSequence,
      lastSeq: lastSequence(batch),
      firstOffset: batch.baseOffset,
      lastOffset: lastOffset(batch),
      timestampMs: batch.maxTimestampMs,
    });
    entry.lastTimestampMs = batch.maxTimestampMs;
  }

  /** The state as a snapshot file would hold it, at the current map end offset. */
  snapshot(): ProducerSnapshot {
    const producers: ProducerSnapshotEntry[] = [];
    for (const entry of this.entries()) {
      const last = entry.batches[entry.batches.length - 1];
      producers.push({
        producerId: entry.producerId,
        producerEpoch: entry.producerEpoch,
        lastSequence: last === undefined ? NO_SEQUENCE : last.lastSeq,
        lastOffset: last === undefined ? -1 : last.lastOffset,
        offsetDelta: last === undefined ? 0 : last.lastOffset - last.firstOffset,
        timestampMs: entry.lastTimestampMs,
      });
    }
    return { offset: this.mapEnd, producers };
  }

  /**
   * truncateAndReload + replay (UnifiedLog.rebuildProducerState): the state becomes the snapshot's
   * (or empty at `emptyStartOffset` without one), then every batch at or after that point is
   * replayed as a follower would (no validation). Producers expired at `expiry.nowMs` are not
   * loaded from the snapshot (ProducerStateManager.loadFromSnapshot).
   */
  rebuild(
    batches: readonly RecordBatch[],
    snapshot: ProducerSnapshot | undefined,
    emptyStartOffset = 0,
    expiry?: { nowMs: number; producerIdExpirationMs: number },
  ): void {
    this.producers.clear();
    this.mapEnd = snapshot === undefined ? emptyStartOffset : snapshot.offset;
    if (snapshot !== undefined) this.loadSnapshotEntries(snapshot, expiry);
    for (const batch of batches) if (batch.baseOffset >= this.mapEnd) this.update(batch);
  }

  /** ProducerStateManager.truncateFullyAndStartAt: no producers, map end at `offset`. */
  truncateFullyAndStartAt(offset: number): void {
    this.producers.clear();
    this.mapEnd = offset;
  }

  /** ProducerStateManager.removeExpiredProducers: `now - lastTimestamp >= producer.id.expiration.ms`. */
  removeExpiredProducers(nowMs: number, producerIdExpirationMs = DEFAULT_PRODUCER_ID_EXPIRATION_MS): number {
    let removed = 0;
    for (const [producerId, entry] of this.producers) {
      if (nowMs - entry.lastTimestampMs >= producerIdExpirationMs) {
        this.producers.delete(producerId);
        removed++;
      }
    }
    return removed;
  }

  private loadSnapshotEntries(snapshot: ProducerSnapshot, expiry: { nowMs: number; producerIdExpirationMs: number } | undefined): void {
    for (const p of snapshot.producers) {
      if (expiry !== undefined && expiry.nowMs - p.timestampMs >= expiry.producerIdExpirationMs) continue;
      invariant(p.offsetDelta >= 0, 'producer snapshot entry with a negative offset delta');
      const batches: BatchMetadata[] =
        p.lastOffset < 0
          ? []
          : [
              {
                firstSeq: decrementSequence(p.lastSequence, p.offsetDelta),
                lastSeq: p.lastSequence,
                firstOffset: p.lastOffset - p.offsetDelta,
                lastOffset: p.lastOffset,
                timestampMs: p.timestampMs,
              },
            ];
      this.producers.set(p.producerId, { producerId: p.producerId, producerEpoch: p.producerEpoch, batches, lastTimestampMs: p.timestampMs });
    }
  }
}

const OK: ClientAppendCheck = Object.freeze({ kind: 'ok' });
const INVALID_PRODUCER_EPOCH: ClientAppendCheck = Object.freeze({ kind: 'error', error: Errors.INVALID_PRODUCER_EPOCH });
const OUT_OF_ORDER_SEQUENCE: ClientAppendCheck = Object.freeze({ kind: 'error', error: Errors.OUT_OF_ORDER_SEQUENCE_NUMBER });

/** ProducerAppendInfo.inSequence: the next sequence, or 0 after Integer.MAX_VALUE. */
function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT_MAX);
}

/** DefaultRecordBatch.decrementSequence. */
function decrementSequence(sequence: number, decrement: number): number {
  if (sequence < decrement) return INT_MAX - (decrement - sequence) + 1;
  return sequence - decrement;
}
