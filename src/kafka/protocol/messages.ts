import type { ErrorCode } from './errors.js';
import type { RecordBatch } from './records.js';

/**
 * Requests and responses between simulated Kafka nodes, named and shaped as Kafka's protocol
 * names them (clients/src/main/resources/common/message/*.json), cut down to the fields the
 * model uses. Every message has a `type` and a size in bytes for the network's bandwidth.
 * Requests carry a `correlationId`; the response echoes it.
 */

/** `replicaId` of a consumer's Fetch (FetchRequest.CONSUMER_REPLICA_ID). */
export const CONSUMER_REPLICA_ID = -1;
/** An absent leader epoch in a request (RecordBatch.NO_PARTITION_LEADER_EPOCH). */
export const NO_LEADER_EPOCH = -1;
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

export type Acks = -1 | 0 | 1;
export type IsolationLevel = 'read_uncommitted' | 'read_committed';

// ---------------------------------------------------------------- Produce

export interface ProduceRequest {
  readonly type: 'ProduceRequest';
  readonly correlationId: number;
  readonly acks: Acks;
  readonly timeoutMs: number;
  readonly partitions: readonly { readonly topic: string; readonly partition: number; readonly batch: RecordBatch }[];
  readonly sizeBytes: number;
}

export interface ProducePartitionResponse {
  readonly topic: string;
  readonly partition: number;
  readonly error: ErrorCode;
  /** The batch's first offset (the original one for a duplicate), or -1 on error. */
  readonly baseOffset: number;
  readonly logStartOffset: number;
}

export interface ProduceResponse {
  readonly type: 'ProduceResponse';
  readonly correlationId: number;
  readonly partitions: readonly ProducePartitionResponse[];
  readonly sizeBytes: number;
}

// ---------------------------------------------------------------- Fetch

export interface FetchPartition {
  readonly topic: string;
  readonly partition: number;
  readonly fetchOffset: number;
  /** The fetcher's view of the leader epoch (KIP-320), or NO_LEADER_EPOCH. */
  readonly currentLeaderEpoch: number;
  /** The epoch of the last batch the fetcher has (KIP-595 truncation on fetch), or NO_LEADER_EPOCH. */
  readonly lastFetchedEpoch: number;
  readonly logStartOffset: number;
  readonly partitionMaxBytes: number;
}

export interface FetchRequest {
  readonly type: 'FetchRequest';
  readonly correlationId: number;
  /** The follower's broker id, or CONSUMER_REPLICA_ID. */
  readonly replicaId: number;
  /** The follower's broker epoch (KIP-903), or -1. */
  readonly replicaEpoch: number;
  readonly maxWaitMs: number;
  readonly minBytes: number;
  readonly maxBytes: number;
  readonly isolationLevel: IsolationLevel;
  readonly partitions: readonly FetchPartition[];
  readonly sizeBytes: number;
}

export interface EpochEndOffset {
  readonly epoch: number;
  readonly endOffset: number;
}

export interface FetchPartitionResponse {
  readonly topic: string;
  readonly partition: number;
  readonly error: ErrorCode;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  /** Set when the fetcher's last fetched epoch diverges from the leader's log (KIP-595). */
  readonly divergingEpoch?: EpochEndOffset;
  readonly batches: readonly RecordBatch[];
}

export interface FetchResponse {
  readonly type: 'FetchResponse';
  readonly correlationId: number;
  readonly partitions: readonly FetchPartitionResponse[];
  readonly sizeBytes: number;
}

// ---------------------------------------------------------------- OffsetForLeaderEpoch

export interface OffsetForLeaderEpochRequest {
  readonly type: 'OffsetForLeaderEpochRequest';
  readonly correlationId: number;
  readonly replicaId: number;
  readonly partitions: readonly { readonly topic: string; readonly partition: number; readonly currentLeaderEpoch: number; readonly leaderEpoch: number }[];
  readonly sizeBytes: number;
}

export interface OffsetForLeaderEpochResponse {
  readonly type: 'OffsetForLeaderEpochResponse';
  readonly correlationId: number;
  readonly partitions: readonly { readonly topic: string; readonly partition: number; readonly error: ErrorCode; readonly leaderEpoch: number; readonly endOffset: number }[];
  readonly sizeBytes: number;
}

// ---------------------------------------------------------------- ListOffsets

export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;

export interface ListOffsetsRequest {
  readonly type: 'ListOffsetsRequest';
  readonly correlationId: number;
  readonly replicaId: number;
  readonly isolationLevel: IsolationLevel;
  readonly partitions: readonly { readonly topic: string; readonly partition: number; readonly currentLeaderEpoch: number; readonly timestamp: number }[];
  readonly sizeBytes: number;
}

export interface ListOffsetsResponse {
  readonly type: 'ListOffsetsResponse';
  readonly correlationId: number;
  readonly partitions: readonly { readonly topic: string; readonly partition: number; readonly error: ErrorCode; readonly offset: number; readonly leaderEpoch: number }[];
  readonly sizeBytes: number;
}

// ---------------------------------------------------------------- AlterPartition (broker → controller)

export interface BrokerState {
  readonly brokerId: number;
  readonly brokerEpoch: number;
}

export interface AlterPartitionItem {
  readonly topic: string;
  readonly partition: number;
  readonly leaderEpoch: number;
  readonly newIsrWithEpochs: readonly BrokerState[];
  readonly partitionEpoch: number;
}

export interface AlterPartitionRequest {
  readonly type: 'AlterPartitionRequest';
  readonly correlationId: number;
  readonly brokerId: number;
  readonly brokerEpoch: number;
  readonly partitions: readonly AlterPartitionItem[];
  readonly sizeBytes: number;
}

export interface AlterPartitionItemResponse {
  readonly topic: string;
  readonly partition: number;
  readonly error: ErrorCode;
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly isr: readonly number[];
  readonly partitionEpoch: number;
}

export interface AlterPartitionResponse {
  readonly type: 'AlterPartitionResponse';
  readonly correlationId: number;
  readonly error: ErrorCode;
  readonly partitions: readonly AlterPartitionItemResponse[];
  readonly sizeBytes: number;
}

// ---------------------------------------------------------------- Metadata (controller → broker)

/**
 * A partition's state as the controller decided it (KRaft's PartitionRecord and
 * PartitionChangeRecord folded together). Brokers carry it out; they never decide it.
 */
export interface PartitionRegistration {
  readonly topic: string;
  readonly partition: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  /** Eligible leader replicas (KIP-966). */
  readonly elr: readonly number[];
  /** -1 when the partition has no leader. */
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
}

export interface BrokerRegistration {
  readonly brokerId: number;
  readonly brokerEpoch: number;
  readonly fenced: boolean;
  readonly inControlledShutdown: boolean;
  readonly rack: string | null;
}

export interface TopicConfigEntry {
  readonly topic: string;
  readonly config: Readonly<Record<string, string | number | boolean>>;
}

/**
 * A batch of metadata changes pushed to a broker, in the order the controller committed them.
 * With KRaft the broker derives the same changes from the metadata log it fetches.
 */
export interface MetadataUpdate {
  readonly type: 'MetadataUpdate';
  /** The changes are those after this offset: a broker behind it must wait for a catch-up. */
  readonly fromOffset: number;
  /** The metadata offset this update brings the broker to. */
  readonly metadataOffset: number;
  readonly brokers: readonly BrokerRegistration[];
  readonly partitions: readonly PartitionRegistration[];
  readonly topicConfigs: readonly TopicConfigEntry[];
  readonly sizeBytes: number;
}

// ---------------------------------------------------------------- Metadata (client → broker)

export interface MetadataRequest {
  readonly type: 'MetadataRequest';
  readonly correlationId: number;
  /** Topics to describe; undefined for all. */
  readonly topics?: readonly string[];
  readonly sizeBytes: number;
}

export interface MetadataPartition {
  readonly partition: number;
  readonly error: ErrorCode;
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
}

/** The answering broker's own view, stale or not: clients learn leadership from it. */
export interface MetadataResponse {
  readonly type: 'MetadataResponse';
  readonly correlationId: number;
  readonly brokers: readonly { readonly brokerId: number; readonly rack: string | null }[];
  readonly topics: readonly { readonly topic: string; readonly error: ErrorCode; readonly partitions: readonly MetadataPartition[] }[];
  readonly sizeBytes: number;
}

// ---------------------------------------------------------------- broker lifecycle (broker → controller)

export interface BrokerRegistrationRequest {
  readonly type: 'BrokerRegistrationRequest';
  readonly correlationId: number;
  readonly brokerId: number;
  /** A new id for every process incarnation (Kafka's incarnation UUID). */
  readonly incarnationId: number;
  readonly rack: string | null;
  /** The broker epoch saved at the last clean shutdown (KIP-966), or -1. */
  readonly previousBrokerEpoch: number;
  readonly sizeBytes: number;
}

export interface BrokerRegistrationResponse {
  readonly type: 'BrokerRegistrationResponse';
  readonly correlationId: number;
  readonly error: ErrorCode;
  /** The offset of the broker's registration record: its broker epoch. */
  readonly brokerEpoch: number;
  readonly sizeBytes: number;
}

export interface BrokerHeartbeatRequest {
  readonly type: 'BrokerHeartbeatRequest';
  readonly correlationId: number;
  readonly brokerId: number;
  readonly brokerEpoch: number;
  readonly currentMetadataOffset: number;
  readonly wantFence: boolean;
  readonly wantShutDown: boolean;
  readonly sizeBytes: number;
}

export interface BrokerHeartbeatResponse {
  readonly type: 'BrokerHeartbeatResponse';
  readonly correlationId: number;
  readonly error: ErrorCode;
  readonly isCaughtUp: boolean;
  readonly isFenced: boolean;
  readonly shouldShutDown: boolean;
  readonly sizeBytes: number;
}

// ---------------------------------------------------------------- InitProducerId (producer → any broker)

/**
 * InitProducerIdRequest (KIP-98; clients/src/main/resources/common/message/InitProducerIdRequest.json),
 * as an idempotent, non-transactional producer sends it: no transactional id, and the current
 * producer id and epoch (KIP-360), or -1 for a fresh producer.
 */
export interface InitProducerIdRequest {
  readonly type: 'InitProducerIdRequest';
  readonly correlationId: number;
  /** Null for an idempotent producer that is not transactional. */
  readonly transactionalId: string | null;
  readonly transactionTimeoutMs: number;
  /** The producer's current id, or -1 (NO_PRODUCER_ID). */
  readonly producerId: number;
  /** The producer's current epoch, or -1 (NO_PRODUCER_EPOCH). */
  readonly producerEpoch: number;
  readonly sizeBytes: number;
}

export interface InitProducerIdResponse {
  readonly type: 'InitProducerIdResponse';
  readonly correlationId: number;
  readonly error: ErrorCode;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly sizeBytes: number;
}

export type KafkaMessage =
  | ProduceRequest
  | ProduceResponse
  | FetchRequest
  | FetchResponse
  | OffsetForLeaderEpochRequest
  | OffsetForLeaderEpochResponse
  | ListOffsetsRequest
  | ListOffsetsResponse
  | AlterPartitionRequest
  | AlterPartitionResponse
  | MetadataUpdate
  | MetadataRequest
  | MetadataResponse
  | BrokerRegistrationRequest
  | BrokerRegistrationResponse
  | BrokerHeartbeatRequest
  | BrokerHeartbeatResponse
  | InitProducerIdRequest
  | InitProducerIdResponse;

/** A rough wire size for a request with `n` partitions and `payloadBytes` of records. */
export function wireSize(partitions: number, payloadBytes = 0): number {
  return 64 + partitions * 48 + payloadBytes;
}
