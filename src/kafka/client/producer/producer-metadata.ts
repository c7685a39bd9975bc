/**
 * The producer's view of the cluster: which broker leads each partition, in which leader epoch
 * (apache/kafka clients/src/main/java/org/apache/kafka/clients/Metadata.java and
 * producer/internals/ProducerMetadata.java). It is refreshed from any broker's MetadataResponse
 * when something asks for it (an unknown leader, NOT_LEADER_OR_FOLLOWER and the other
 * InvalidMetadataException errors, a disconnect) and every metadata.max.age.ms.
 */
import { Errors } from '../../protocol/errors.js';
import type { MetadataResponse } from '../../protocol/messages.js';
import { tpKey } from '../../protocol/topic-partition.js';
import type { PartitionerCluster, PartitionInfo } from '../built-in-partitioner.js';

export interface ProducerPartitionInfo extends PartitionInfo {
  readonly leaderEpoch: number;
}

export class ProducerMetadata implements PartitionerCluster {
  private readonly topics = new Map<string, ProducerPartitionInfo[]>();
  private readonly available = new Map<string, ProducerPartitionInfo[]>();
  private readonly byNode = new Map<number, ProducerPartitionInfo[]>();
  /** Metadata.lastSeenLeaderEpochs (KIP-320): a response from a stale broker cannot move a leader back. */
  private readonly lastSeenLeaderEpochs = new Map<string, number>();
  /** Topics the producer needs (ProducerMetadata.topics). */
  private readonly wanted = new Set<string>();
  private brokerIds: number[] = [];
  private needFullUpdate = true;
  private lastRefreshMs = -Infinity;
  private lastSuccessfulRefreshMs = -Infinity;
  /** Consecutive failed or incomplete refreshes, for the exponential refresh backoff. */
  private attempts = 0;
  /** Metadata.refreshBackoffMs: drawn once per refresh, counted from the last refresh. */
  private backoffMs = 0;
  /** Bumped by every successful update, so waiters can tell new metadata from old. */
  updateVersion = 0;

  constructor(
    private readonly metadataMaxAgeMs: number,
    private readonly refreshBackoffMs: (attempts: number) => number,
  ) {}

  /** ProducerMetadata.add: the topic joins the next request, which is wanted at once if it is new. */
  add(topic: string): void {
    if (this.wanted.has(topic)) return;
    this.wanted.add(topic);
    this.needFullUpdate = true;
  }

  topicsWanted(): string[] {
    return [...this.wanted];
  }

  requestUpdate(): void {
    this.needFullUpdate = true;
  }

  /** Metadata.timeToNextUpdate: at once (after the backoff) when asked, else at the max age. */
  nextUpdateMs(): number {
    const expireMs = this.needFullUpdate ? -Infinity : this.lastSuccessfulRefreshMs + this.metadataMaxAgeMs;
    return Math.max(expireMs, this.lastRefreshMs + this.backoffMs);
  }

  /** The request went unanswered (Metadata.failedUpdate). */
  failedUpdate(nowMs: number): void {
    this.lastRefreshMs = nowMs;
    this.backoffMs = this.refreshBackoffMs(this.attempts);
    this.attempts++;
  }

  /** Metadata.update from a MetadataResponse. */
  update(response: MetadataResponse, nowMs: number): void {
    this.lastRefreshMs = nowMs;
    this.brokerIds = response.brokers.map((b) => b.brokerId);
    let missing = false;
    for (const t of response.topics) {
      if (t.error !== Errors.NONE || t.partitions.length === 0) {
        missing = true;
        continue;
      }
      const previous = new Map((this.topics.get(t.topic) ?? []).map((p) => [p.partition, p]));
      const partitions: ProducerPartitionInfo[] = [];
      for (const p of t.partitions) {
        const key = tpKey(t.topic, p.partition);
        const seen = this.lastSeenLeaderEpochs.get(key);
        const old = previous.get(p.partition);
        if (seen !== undefined && p.leaderEpoch < seen && old !== undefined) {
          // Metadata.updateLatestMetadata: an older epoch than we have seen keeps what we know.
          partitions.push(old);
          continue;
        }
        if (seen === undefined || p.leaderEpoch > seen) this.lastSeenLeaderEpochs.set(key, p.leaderEpoch);
        partitions.push({ topic: t.topic, partition: p.partition, leader: p.leader >= 0 ? p.leader : null, leaderEpoch: p.leaderEpoch });
        if (p.leader < 0) missing = true;
      }
      partitions.sort((a, b) => a.partition - b.partition);
      this.topics.set(t.topic, partitions);
    }
    this.rebuildIndexes();
    // A topic or leader still missing keeps the update wanted, behind the backoff.
    this.needFullUpdate = missing;
    this.backoffMs = this.refreshBackoffMs(missing ? this.attempts : 0);
    this.attempts = missing ? this.attempts + 1 : 0;
    this.lastSuccessfulRefreshMs = nowMs;
    this.updateVersion++;
  }

  brokers(): readonly number[] {
    return this.brokerIds;
  }

  partitionsForTopic(topic: string): readonly ProducerPartitionInfo[] {
    return this.topics.get(topic) ?? [];
  }

  availablePartitionsForTopic(topic: string): readonly ProducerPartitionInfo[] {
    return this.available.get(topic) ?? [];
  }

  /** Cluster.partitionsForNode: the partitions the node leads, in metadata order. */
  partitionsForNode(nodeId: number): readonly ProducerPartitionInfo[] {
    return this.byNode.get(nodeId) ?? [];
  }

  partitionInfo(topic: string, partition: number): ProducerPartitionInfo | undefined {
    return this.topics.get(topic)?.[partition];
  }

  leaderFor(topic: string, partition: number): number | null {
    return this.partitionInfo(topic, partition)?.leader ?? null;
  }

  leaderEpochFor(topic: string, partition: number): number | undefined {
    return this.partitionInfo(topic, partition)?.leaderEpoch;
  }

  private rebuildIndexes(): void {
    this.available.clear();
    this.byNode.clear();
    for (const [topic, partitions] of this.topics) {
      this.available.set(
        topic,
        partitions.filter((p) => p.leader !== null),
      );
      for (const p of partitions) {
        if (p.leader === null) continue;
        const list = this.byNode.get(p.leader);
        if (list === undefined) this.byNode.set(p.leader, [p]);
        else list.push(p);
      }
    }
  }
}
