import type { ConsumerProtocolSubscription, MemberAssignment } from '../protocol/group-messages.js';

/**
 * The records the group coordinator writes to its __consumer_offsets partition, as key/value
 * pairs named after Kafka's generated record classes
 * (group-coordinator/src/main/resources/common/message/GroupMetadataKey.json, GroupMetadataValue.json,
 * OffsetCommitKey.json, OffsetCommitValue.json). A null value is a tombstone.
 * Builders follow GroupCoordinatorRecordHelpers.
 */

export interface GroupMetadataKey {
  readonly group: string;
}

/** GroupMetadataValue.MemberMetadata. */
export interface GroupMetadataMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly rebalanceTimeout: number;
  readonly sessionTimeout: number;
  /** The member's metadata for the group's selected protocol. */
  readonly subscription: ConsumerProtocolSubscription;
  readonly assignment: MemberAssignment;
}

export interface GroupMetadataValue {
  readonly protocolType: string;
  readonly generation: number;
  readonly protocol: string | null;
  readonly leader: string | null;
  /** -1 when unknown. */
  readonly currentStateTimestamp: number;
  readonly members: readonly GroupMetadataMember[];
}

export interface OffsetCommitKey {
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
}

export interface OffsetCommitValue {
  readonly offset: number;
  /** -1 when unknown. */
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestamp: number;
  /** -1 unless the commit overrode the retention (OffsetCommit v2-v4). */
  readonly expireTimestamp: number;
}

export interface GroupMetadataRecord {
  readonly type: 'GroupMetadata';
  readonly key: GroupMetadataKey;
  readonly value: GroupMetadataValue | null;
}

export interface OffsetCommitRecord {
  readonly type: 'OffsetCommit';
  readonly key: OffsetCommitKey;
  readonly value: OffsetCommitValue | null;
}

export type GroupRecord = GroupMetadataRecord | OffsetCommitRecord;

export function groupMetadataRecord(group: string, value: GroupMetadataValue): GroupMetadataRecord {
  return { type: 'GroupMetadata', key: { group }, value };
}

/** GroupCoordinatorRecordHelpers.newGroupMetadataTombstoneRecord. */
export function groupMetadataTombstone(group: string): GroupMetadataRecord {
  return { type: 'GroupMetadata', key: { group }, value: null };
}

/** GroupCoordinatorRecordHelpers.newOffsetCommitRecord. */
export function offsetCommitRecord(group: string, topic: string, partition: number, value: OffsetCommitValue): OffsetCommitRecord {
  return { type: 'OffsetCommit', key: { group, topic, partition }, value };
}

/** GroupCoordinatorRecordHelpers.newOffsetCommitTombstoneRecord. */
export function offsetCommitTombstone(group: string, topic: string, partition: number): OffsetCommitRecord {
  return { type: 'OffsetCommit', key: { group, topic, partition }, value: null };
}

/** A rough size in bytes of a record, for the host's log. */
export function groupRecordSizeBytes(record: GroupRecord): number {
  if (record.type === 'OffsetCommit') return 48 + record.key.group.length + record.key.topic.length + (record.value?.metadata.length ?? 0);
  return 64 + record.key.group.length + (record.value?.members.length ?? 0) * 96;
}
