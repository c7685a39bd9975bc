import type { ErrorCode } from '../../protocol/errors.js';
import type { RecordBatch } from '../../protocol/records.js';

/** Where a batch comes from: a client (validated, offsets assigned) or a leader (as given). */
export type AppendOrigin = 'client' | 'replication';

/** The outcome of `UnifiedLog.appendAsLeader`. */
export type LeaderAppendResult =
  | {
      readonly ok: true;
      /** The batch as stored (offsets and leader epoch assigned), or the original for a duplicate. */
      readonly firstOffset: number;
      readonly lastOffset: number;
      /** A retry of a batch already in the log (idempotent producer): nothing was written. */
      readonly duplicate: boolean;
      readonly logStartOffset: number;
      /** The disk op of the fsync this append triggered (flush.messages), to wait for; else -1. */
      readonly flushOpId: number;
    }
  | { readonly ok: false; readonly error: ErrorCode };

/** The outcome of `UnifiedLog.appendAsFollower`. */
export type FollowerAppendResult =
  | { readonly ok: true; readonly lastOffset: number; readonly lastEpoch: number; readonly flushOpId: number }
  | {
      readonly ok: false;
      readonly error: ErrorCode;
      /**
       * Set when the first batch does not start at the log end offset (Kafka's
       * UnexpectedAppendOffsetException): the first offset of the batches and their last offset, so
       * the caller can apply Partition's empty-log rule (REPLICATION.md §3.1).
       */
      readonly unexpectedAppendOffset?: { readonly firstOffset: number; readonly lastOffset: number };
    };

export type ReadResult =
  | { readonly ok: true; readonly batches: readonly RecordBatch[] }
  | { readonly ok: false; readonly error: ErrorCode };

/** An entry of the leader epoch cache: the epoch and the first offset written in it. */
export interface EpochEntry {
  readonly epoch: number;
  readonly startOffset: number;
}

/**
 * The log directory cannot be used (Kafka's KafkaStorageException, raised when an IOException hits
 * a log dir). Thrown only inside the log package and turned into an offline log: every later
 * operation answers KAFKA_STORAGE_ERROR, as Kafka's partitions on an offline log dir do.
 */
export class KafkaStorageException extends Error {
  override readonly name = 'KafkaStorageException';
}
