import type { ErrorCode } from './errors.js';
import type { TopicPartition } from './topic-partition.js';

/**
 * Consumer-group requests and responses (classic protocol), named and shaped as Kafka's
 * protocol names them (clients/src/main/resources/common/message/FindCoordinatorRequest.json,
 * JoinGroupRequest.json, SyncGroupRequest.json, HeartbeatRequest.json, LeaveGroupRequest.json,
 * OffsetCommitRequest.json, OffsetFetchRequest.json and their responses), cut down to the
 * fields the model uses, at the versions a Kafka 4.x client sends (JoinGroup v4+ so a first
 * join must learn its member id: KIP-394; v9 `skipAssignment`; OffsetCommit v9+ so an unknown
 * group is GROUP_ID_NOT_FOUND). `errorCode` fields are named `error`, as in messages.ts.
 * Requests carry a `correlationId`; the response echoes it.
 *
 * Protocol metadata and assignments are structured values instead of ConsumerProtocol bytes:
 * the coordinator never looks inside them except to compare them (ClassicGroupMember.matches).
 */

/** JoinGroupRequest.UNKNOWN_MEMBER_ID: the member id of a first join. */
export const UNKNOWN_MEMBER_ID = '';
/** JoinGroupRequest.UNKNOWN_GENERATION_ID / OffsetCommitRequest.DEFAULT_GENERATION_ID. */
export const UNKNOWN_GENERATION_ID = -1;
/** ClassicGroup.NO_LEADER. */
export const NO_LEADER = '';
/** OffsetFetchResponse.INVALID_OFFSET: no committed offset. */
export const INVALID_OFFSET = -1;
/** RecordBatch.NO_PARTITION_LEADER_EPOCH in an OffsetCommit/OffsetFetch. */
export const NO_COMMITTED_LEADER_EPOCH = -1;
/** OffsetCommitRequest.DEFAULT_RETENTION_TIME: use the broker's offsets.retention.minutes. */
export const DEFAULT_RETENTION_TIME = -1;
/** ConsumerProtocol.PROTOCOL_TYPE. */
export const CONSUMER_PROTOCOL_TYPE = 'consumer';

/**
 * ConsumerProtocolSubscription (ConsumerProtocolSubscription.json v3), structured: what a consumer
 * sends as the metadata of each protocol (assignor) it supports.
 */
export interface ConsumerProtocolSubscription {
  readonly topics: readonly string[];
  readonly ownedPartitions?: readonly TopicPartition[];
  /** The generation of the owned partitions (v2+), or -1. */
  readonly generationId?: number;
  readonly rackId?: string | null;
  readonly userData?: unknown;
}

/** ConsumerProtocolAssignment (ConsumerProtocolAssignment.json), structured. */
export interface ConsumerProtocolAssignment {
  readonly partitions: readonly TopicPartition[];
  readonly userData?: unknown;
}

/**
 * ClassicGroupMember.EMPTY_ASSIGNMENT (zero bytes): what a member gets when the leader gave it
 * nothing, and what every member gets with an error.
 */
export const EMPTY_ASSIGNMENT = null;
export type MemberAssignment = ConsumerProtocolAssignment | typeof EMPTY_ASSIGNMENT;

// ---------------------------------------------------------------- FindCoordinator

/** FindCoordinatorRequest.CoordinatorType.GROUP. */
export const COORDINATOR_TYPE_GROUP = 0;

/** FindCoordinatorRequest v4+: a batch of keys (group ids). */
export interface FindCoordinatorRequest {
  readonly type: 'FindCoordinatorRequest';
  readonly correlationId: number;
  readonly keyType: typeof COORDINATOR_TYPE_GROUP;
  readonly coordinatorKeys: readonly string[];
  readonly sizeBytes: number;
}

export interface FindCoordinatorResponse {
  readonly type: 'FindCoordinatorResponse';
  readonly correlationId: number;
  readonly coordinators: readonly {
    readonly key: string;
    /** The coordinator's broker id, or -1 with an error. */
    readonly nodeId: number;
    readonly error: ErrorCode;
  }[];
  readonly sizeBytes: number;
}

// ---------------------------------------------------------------- JoinGroup

export interface JoinGroupRequestProtocol {
  readonly name: string;
  readonly metadata: ConsumerProtocolSubscription;
}

export interface JoinGroupRequest {
  readonly type: 'JoinGroupRequest';
  readonly correlationId: number;
  /** From the request header (RequestContext.clientId): the prefix of a new member id. */
  readonly clientId: string;
  /** RequestContext.clientAddress, for DescribeGroups; the model does not interpret it. */
  readonly clientHost: string;
  readonly groupId: string;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  /** UNKNOWN_MEMBER_ID ('') for a first join. */
  readonly memberId: string;
  /** group.instance.id (static membership, KIP-345), or null. */
  readonly groupInstanceId: string | null;
  readonly protocolType: string;
  /** In the member's order of preference. */
  readonly protocols: readonly JoinGroupRequestProtocol[];
  readonly reason?: string | null;
  readonly sizeBytes: number;
}

export interface JoinGroupResponseMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly metadata: ConsumerProtocolSubscription;
}

export interface JoinGroupResponse {
  readonly type: 'JoinGroupResponse';
  readonly correlationId: number;
  readonly error: ErrorCode;
  readonly generationId: number;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly leader: string;
  /** v9+: the leader is a static member that rejoined; it must not compute a new assignment. */
  readonly skipAssignment: boolean;
  readonly memberId: string;
  /** The members and their metadata for the selected protocol: only the leader gets them. */
  readonly members: readonly JoinGroupResponseMember[];
  readonly sizeBytes: number;
}

// ---------------------------------------------------------------- SyncGroup

export interface SyncGroupRequestAssignment {
  readonly memberId: string;
  readonly assignment: MemberAssignment;
}

export interface SyncGroupRequest {
  readonly type: 'SyncGroupRequest';
  readonly correlationId: number;
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  /** v5+; null when not sent. */
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  /** The leader's assignments; empty from followers. */
  readonly assignments: readonly SyncGroupRequestAssignment[];
  readonly sizeBytes: number;
}

export interface SyncGroupResponse {
  readonly type: 'SyncGroupResponse';
  readonly correlationId: number;
  readonly error: ErrorCode;
  readonly protocolType: string | null;
  readonly protocolName: string | null;
  readonly assignment: MemberAssignment;
  readonly sizeBytes: number;
}

// ---------------------------------------------------------------- Heartbeat

export interface HeartbeatRequest {
  readonly type: 'HeartbeatRequest';
  readonly correlationId: number;
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly sizeBytes: number;
}

export interface HeartbeatResponse {
  readonly type: 'HeartbeatResponse';
  readonly correlationId: number;
  readonly error: ErrorCode;
  readonly sizeBytes: number;
}

// ---------------------------------------------------------------- LeaveGroup

export interface LeaveGroupMemberIdentity {
  /** UNKNOWN_MEMBER_ID to remove a static member by its instance id (admin removal). */
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly reason?: string | null;
}

/** LeaveGroupRequest v3+: a batch of members. */
export interface LeaveGroupRequest {
  readonly type: 'LeaveGroupRequest';
  readonly correlationId: number;
  readonly groupId: string;
  readonly members: readonly LeaveGroupMemberIdentity[];
  readonly sizeBytes: number;
}

export interface LeaveGroupResponse {
  readonly type: 'LeaveGroupResponse';
  readonly correlationId: number;
  /** A group-level error (coordinator errors, a Dead group); NONE otherwise. */
  readonly error: ErrorCode;
  readonly members: readonly { readonly memberId: string; readonly groupInstanceId: string | null; readonly error: ErrorCode }[];
  readonly sizeBytes: number;
}

// ---------------------------------------------------------------- OffsetCommit

export interface OffsetCommitRequestPartition {
  readonly partitionIndex: number;
  readonly committedOffset: number;
  /** NO_COMMITTED_LEADER_EPOCH when unknown. */
  readonly committedLeaderEpoch: number;
  readonly committedMetadata: string | null;
}

export interface OffsetCommitRequest {
  readonly type: 'OffsetCommitRequest';
  readonly correlationId: number;
  readonly groupId: string;
  /** The member's generation, or UNKNOWN_GENERATION_ID for a consumer outside group management. */
  readonly generationIdOrMemberEpoch: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  /** DEFAULT_RETENTION_TIME unless overridden (v2-v4 only in Kafka). */
  readonly retentionTimeMs: number;
  readonly topics: readonly { readonly name: string; readonly partitions: readonly OffsetCommitRequestPartition[] }[];
  readonly sizeBytes: number;
}

export interface OffsetCommitResponse {
  readonly type: 'OffsetCommitResponse';
  readonly correlationId: number;
  readonly topics: readonly {
    readonly name: string;
    readonly partitions: readonly { readonly partitionIndex: number; readonly error: ErrorCode }[];
  }[];
  readonly sizeBytes: number;
}

// ---------------------------------------------------------------- OffsetFetch

/** OffsetFetchRequest v8+ carries groups; the model sends one group per request. */
export interface OffsetFetchRequest {
  readonly type: 'OffsetFetchRequest';
  readonly correlationId: number;
  readonly groupId: string;
  /** Null fetches every committed offset of the group. */
  readonly topics: readonly { readonly name: string; readonly partitionIndexes: readonly number[] }[] | null;
  /** KIP-447: wait out pending transactional offsets (UNSTABLE_OFFSET_COMMIT). */
  readonly requireStable: boolean;
  readonly sizeBytes: number;
}

export interface OffsetFetchResponsePartition {
  readonly partitionIndex: number;
  /** INVALID_OFFSET when nothing is committed. */
  readonly committedOffset: number;
  readonly committedLeaderEpoch: number;
  readonly metadata: string;
  readonly error: ErrorCode;
}

export interface OffsetFetchResponse {
  readonly type: 'OffsetFetchResponse';
  readonly correlationId: number;
  readonly groupId: string;
  /** The group-level error (coordinator errors, INVALID_GROUP_ID). */
  readonly error: ErrorCode;
  readonly topics: readonly { readonly name: string; readonly partitions: readonly OffsetFetchResponsePartition[] }[];
  readonly sizeBytes: number;
}

export type GroupRequest =
  | JoinGroupRequest
  | SyncGroupRequest
  | HeartbeatRequest
  | LeaveGroupRequest
  | OffsetCommitRequest
  | OffsetFetchRequest;

export type GroupResponse =
  | JoinGroupResponse
  | SyncGroupResponse
  | HeartbeatResponse
  | LeaveGroupResponse
  | OffsetCommitResponse
  | OffsetFetchResponse;

export type GroupMessage = GroupRequest | GroupResponse | FindCoordinatorRequest | FindCoordinatorResponse;

/** A rough wire size for a group message with `items` entries (members, partitions...). */
export function groupWireSize(items: number): number {
  return 64 + items * 48;
}
