import type { ErrorCode } from '../protocol/errors.js';

/**
 * The KRaft quorum's RPCs (KIP-595), cut down to the fields the model uses, as Kafka's schemas
 * name them (clients/src/main/resources/common/message/{Vote,BeginQuorumEpoch,EndQuorumEpoch,
 * Fetch}{Request,Response}.json). Types carry a `Raft` prefix so a node that hosts both a broker
 * and the Raft client can tell a metadata-log Fetch from a partition Fetch by `type` alone.
 *
 * Leader and epoch in responses follow Kafka's `currentLeader` / `leaderId`+`leaderEpoch` fields:
 * every response tells the requester what this node believes the current epoch and leader are,
 * and `maybeHandleCommonResponse` acts on that before anything else (KRAFT.md §3.4).
 */

/** No leader known (Kafka's -1 sentinel in `leaderId`). */
export const NO_LEADER = -1;
/** No high watermark known (`highWatermark` = -1 on the wire). */
export const NO_HIGH_WATERMARK = -1;
/** KafkaRaftClient.MAX_FETCH_WAIT_MS: a constant, not a config. */
export const MAX_FETCH_WAIT_MS = 500;

/** A batch of the metadata log: one epoch, consecutive offsets from `baseOffset`. */
export interface RaftRecordBatch {
  readonly baseOffset: number;
  /** The leader epoch the batch was written in (its partitionLeaderEpoch). */
  readonly epoch: number;
  /** A control batch (LeaderChangeMessage); listeners never see it in `handleCommit`. */
  readonly control: boolean;
  readonly records: readonly unknown[];
}

/** The control record a new leader writes first in its epoch (LeaderChangeMessage.json). */
export interface LeaderChangeMessage {
  readonly type: 'LeaderChange';
  readonly leaderId: number;
  readonly voters: readonly number[];
  readonly grantingVoters: readonly number[];
}

export interface RaftVoteRequest {
  readonly type: 'RaftVoteRequest';
  readonly correlationId: number;
  /** `replicaEpoch`: the candidate's epoch (already bumped), or the prospective's current epoch for a PreVote. */
  readonly candidateEpoch: number;
  readonly candidateId: number;
  /** The voter this request is addressed to (`voterId` in the voter key, KIP-853). */
  readonly voterId: number;
  /** The epoch of the candidate's last log entry (`log.lastFetchedEpoch()`). */
  readonly lastOffsetEpoch: number;
  /** The candidate's log end offset. */
  readonly lastOffset: number;
  /** KIP-996: a PreVote asks "would you vote for me?" without changing anyone's state. */
  readonly preVote: boolean;
  readonly sizeBytes: number;
}

export interface RaftVoteResponse {
  readonly type: 'RaftVoteResponse';
  readonly correlationId: number;
  readonly error: ErrorCode;
  readonly leaderEpoch: number;
  readonly leaderId: number;
  readonly voteGranted: boolean;
  readonly sizeBytes: number;
}

export interface RaftBeginQuorumEpochRequest {
  readonly type: 'RaftBeginQuorumEpochRequest';
  readonly correlationId: number;
  readonly leaderEpoch: number;
  readonly leaderId: number;
  readonly voterId: number;
  readonly sizeBytes: number;
}

export interface RaftBeginQuorumEpochResponse {
  readonly type: 'RaftBeginQuorumEpochResponse';
  readonly correlationId: number;
  readonly error: ErrorCode;
  readonly leaderEpoch: number;
  readonly leaderId: number;
  readonly sizeBytes: number;
}

export interface RaftEndQuorumEpochRequest {
  readonly type: 'RaftEndQuorumEpochRequest';
  readonly correlationId: number;
  readonly leaderEpoch: number;
  readonly leaderId: number;
  /** Voters by descending fetch offset: the most up-to-date should run first (KIP-595). */
  readonly preferredSuccessors: readonly number[];
  readonly sizeBytes: number;
}

export interface RaftEndQuorumEpochResponse {
  readonly type: 'RaftEndQuorumEpochResponse';
  readonly correlationId: number;
  readonly error: ErrorCode;
  readonly leaderEpoch: number;
  readonly leaderId: number;
  readonly sizeBytes: number;
}

export interface RaftFetchRequest {
  readonly type: 'RaftFetchRequest';
  readonly correlationId: number;
  /** The fetching replica: a voter or an observer. */
  readonly replicaId: number;
  readonly currentLeaderEpoch: number;
  /** The fetcher's log end offset. */
  readonly fetchOffset: number;
  /** The epoch of the fetcher's last entry (KIP-595 truncation detection). */
  readonly lastFetchedEpoch: number;
  readonly maxWaitMs: number;
  /** The fetcher's high watermark, or -1 (4.x: the leader answers at once when it differs). */
  readonly highWatermark: number;
  readonly sizeBytes: number;
}

export interface RaftFetchResponse {
  readonly type: 'RaftFetchResponse';
  readonly correlationId: number;
  readonly error: ErrorCode;
  readonly leaderEpoch: number;
  readonly leaderId: number;
  /** The leader's high watermark, or -1 if it has none yet in its epoch. */
  readonly highWatermark: number;
  /** Set when the fetcher's log diverges: truncate to this epoch's end offset, then fetch again. */
  readonly divergingEpoch?: { readonly epoch: number; readonly endOffset: number };
  readonly records: readonly RaftRecordBatch[];
  readonly sizeBytes: number;
}

export type RaftRequest = RaftVoteRequest | RaftBeginQuorumEpochRequest | RaftEndQuorumEpochRequest | RaftFetchRequest;
export type RaftResponse = RaftVoteResponse | RaftBeginQuorumEpochResponse | RaftEndQuorumEpochResponse | RaftFetchResponse;
export type RaftMessage = RaftRequest | RaftResponse;

const RAFT_MESSAGE_TYPES: ReadonlySet<string> = new Set<RaftMessage['type']>([
  'RaftVoteRequest',
  'RaftVoteResponse',
  'RaftBeginQuorumEpochRequest',
  'RaftBeginQuorumEpochResponse',
  'RaftEndQuorumEpochRequest',
  'RaftEndQuorumEpochResponse',
  'RaftFetchRequest',
  'RaftFetchResponse',
]);

/** Whether `message` belongs to the Raft client (so a hosting node can route everything else). */
export function isRaftMessage(message: { readonly type: string }): message is RaftMessage {
  return RAFT_MESSAGE_TYPES.has(message.type);
}

export function isRaftResponse(message: RaftMessage): message is RaftResponse {
  return message.type.endsWith('Response');
}

/** Request/response header and fixed fields (Kafka's request header plus the topic-partition block). */
const HEADER_BYTES = 64;
/** Kafka's record batch header (DefaultRecordBatch.RECORD_BATCH_OVERHEAD). */
export const BATCH_OVERHEAD_BYTES = 61;
/** One small metadata record on the wire and on disk. */
export const RECORD_BYTES = 64;

export function batchSizeBytes(batch: RaftRecordBatch): number {
  return BATCH_OVERHEAD_BYTES + RECORD_BYTES * batch.records.length;
}

export function raftWireSize(batches: readonly RaftRecordBatch[] = []): number {
  let bytes = HEADER_BYTES;
  for (const batch of batches) bytes += batchSizeBytes(batch);
  return bytes;
}
