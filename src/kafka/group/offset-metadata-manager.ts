import { Errors } from '../protocol/errors.js';
import {
  DEFAULT_RETENTION_TIME,
  INVALID_OFFSET,
  NO_COMMITTED_LEADER_EPOCH,
  type OffsetCommitRequest,
  type OffsetCommitResponse,
  type OffsetFetchRequest,
  type OffsetFetchResponse,
} from '../protocol/group-messages.js';
import { offsetCommitRecord, offsetCommitTombstone, type OffsetCommitKey, type OffsetCommitRecord, type OffsetCommitValue } from './group-records.js';

/** OffsetAndMetadata (group-coordinator/.../OffsetAndMetadata.java). */
export interface OffsetAndMetadata {
  readonly committedOffset: number;
  /** -1 when unknown. */
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestampMs: number;
  /** null unless the commit overrode the retention. */
  readonly expireTimestampMs: number | null;
}

/**
 * The committed offsets of every group this broker coordinates
 * (group-coordinator/.../OffsetMetadataManager.java): group → topic → partition → offset.
 * Offsets change only by replaying OffsetCommit records, when a write is committed or when a
 * partition is loaded; reads therefore see the last committed state, as Kafka's read
 * operations do (they read the timeline at the last committed offset).
 */
export class OffsetMetadataManager {
  private readonly offsetsByGroup = new Map<string, Map<string, Map<number, OffsetAndMetadata>>>();

  constructor(private readonly offsetMetadataMaxSize: number) {}

  /**
   * The per-partition part of OffsetMetadataManager.commitOffset (after validation): the response,
   * and the OffsetCommit records of the partitions accepted.
   */
  prepareCommit(request: OffsetCommitRequest, nowMs: number): { response: OffsetCommitResponse['topics']; records: OffsetCommitRecord[] } {
    const records: OffsetCommitRecord[] = [];
    const expireTimestamp = request.retentionTimeMs === DEFAULT_RETENTION_TIME ? -1 : nowMs + request.retentionTimeMs;
    const topics = request.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map((p) => {
        // OffsetMetadataManager.isMetadataInvalid: longer than offset.metadata.max.bytes.
        if (p.committedMetadata !== null && p.committedMetadata.length > this.offsetMetadataMaxSize) {
          return { partitionIndex: p.partitionIndex, error: Errors.OFFSET_METADATA_TOO_LARGE };
        }
        records.push(
          offsetCommitRecord(request.groupId, topic.name, p.partitionIndex, {
            offset: p.committedOffset,
            leaderEpoch: p.committedLeaderEpoch,
            metadata: p.committedMetadata ?? '',
            commitTimestamp: nowMs,
            expireTimestamp,
          }),
        );
        return { partitionIndex: p.partitionIndex, error: Errors.NONE };
      }),
    }));
    return { response: topics, records };
  }

  /** OffsetMetadataManager.replay(OffsetCommitKey, OffsetCommitValue). */
  replay(key: OffsetCommitKey, value: OffsetCommitValue | null): void {
    if (value !== null) {
      let byTopic = this.offsetsByGroup.get(key.group);
      if (byTopic === undefined) this.offsetsByGroup.set(key.group, (byTopic = new Map()));
      let byPartition = byTopic.get(key.topic);
      if (byPartition === undefined) byTopic.set(key.topic, (byPartition = new Map()));
      byPartition.set(key.partition, {
        committedOffset: value.offset,
        leaderEpoch: value.leaderEpoch,
        metadata: value.metadata,
        commitTimestampMs: value.commitTimestamp,
        expireTimestampMs: value.expireTimestamp === -1 ? null : value.expireTimestamp,
      });
    } else {
      const byTopic = this.offsetsByGroup.get(key.group);
      const byPartition = byTopic?.get(key.topic);
      if (byTopic === undefined || byPartition === undefined) return;
      byPartition.delete(key.partition);
      if (byPartition.size === 0) byTopic.delete(key.topic);
      if (byTopic.size === 0) this.offsetsByGroup.delete(key.group);
    }
  }

  offset(groupId: string, topic: string, partition: number): OffsetAndMetadata | undefined {
    return this.offsetsByGroup.get(groupId)?.get(topic)?.get(partition);
  }

  hasOffsets(groupId: string): boolean {
    return this.offsetsByGroup.has(groupId);
  }

  /** Every committed offset of a group, topics and partitions in commit order. */
  offsets(groupId: string): { topic: string; partition: number; offset: OffsetAndMetadata }[] {
    const out: { topic: string; partition: number; offset: OffsetAndMetadata }[] = [];
    const byTopic = this.offsetsByGroup.get(groupId);
    if (byTopic === undefined) return out;
    for (const [topic, byPartition] of byTopic) for (const [partition, offset] of byPartition) out.push({ topic, partition, offset });
    return out;
  }

  /**
   * OffsetMetadataManager.fetchOffsets / fetchAllOffsets for a group that may not exist
   * (`groupExists` false: a missing or Dead group, every partition INVALID_OFFSET, no error).
   */
  fetch(request: OffsetFetchRequest, groupExists: boolean): OffsetFetchResponse['topics'] {
    const byTopic = groupExists ? this.offsetsByGroup.get(request.groupId) : undefined;
    if (request.topics === null) {
      if (byTopic === undefined) return [];
      return [...byTopic].map(([name, byPartition]) => ({
        name,
        partitions: [...byPartition].map(([partitionIndex, o]) => ({
          partitionIndex,
          committedOffset: o.committedOffset,
          committedLeaderEpoch: o.leaderEpoch,
          metadata: o.metadata,
          error: Errors.NONE,
        })),
      }));
    }
    return request.topics.map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((partitionIndex) => {
        const o = byTopic?.get(t.name)?.get(partitionIndex);
        if (o === undefined) {
          return { partitionIndex, committedOffset: INVALID_OFFSET, committedLeaderEpoch: NO_COMMITTED_LEADER_EPOCH, metadata: '', error: Errors.NONE };
        }
        return { partitionIndex, committedOffset: o.committedOffset, committedLeaderEpoch: o.leaderEpoch, metadata: o.metadata, error: Errors.NONE };
      }),
    }));
  }

  /**
   * OffsetMetadataManager.cleanupExpiredOffsets: tombstones for the offsets whose retention has
   * passed (OffsetExpirationConditionImpl.isOffsetExpired: an explicit expire timestamp, or
   * base timestamp + offsets.retention.ms). Returns whether every offset of the group expired.
   */
  cleanupExpiredOffsets(
    groupId: string,
    baseTimestamp: ((o: OffsetAndMetadata) => number) | null,
    nowMs: number,
    retentionMs: number,
    records: OffsetCommitRecord[],
    subscribedTopics: ReadonlySet<string> | null = null,
  ): boolean {
    const byTopic = this.offsetsByGroup.get(groupId);
    if (byTopic === undefined) return true;
    if (baseTimestamp === null) return false;
    let all = true;
    for (const [topic, byPartition] of byTopic) {
      // The offsets of a topic the group subscribes to do not expire (isSubscribedToTopic).
      if (subscribedTopics !== null && subscribedTopics.has(topic)) {
        all = false;
        continue;
      }
      for (const [partition, o] of byPartition) {
        const expired = o.expireTimestampMs !== null ? nowMs >= o.expireTimestampMs : nowMs - baseTimestamp(o) >= retentionMs;
        if (expired) records.push(offsetCommitTombstone(groupId, topic, partition));
        else all = false;
      }
    }
    return all;
  }

  /** Drops a group's offsets (partition unload). */
  removeGroup(groupId: string): void {
    this.offsetsByGroup.delete(groupId);
  }

  groupIds(): IterableIterator<string> {
    return this.offsetsByGroup.keys();
  }
}
