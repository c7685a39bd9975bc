/**
 * What the consumer subscribes to, what it is assigned, and where it stands in each assigned
 * partition (apache/kafka clients/src/main/java/org/apache/kafka/clients/consumer/internals/
 * SubscriptionState.java, reduced). Each assigned partition has a fetch state:
 * - INITIALIZING: no position yet; the committed offset must be fetched (OffsetFetch);
 * - AWAIT_RESET: the position must be reset by auto.offset.reset (ListOffsets);
 * - AWAIT_VALIDATION: the position is known but must be checked against the leader's log
 *   (OffsetForLeaderEpoch, KIP-320) before fetching from it;
 * - FETCHING: fetches go out from the position.
 */
import { tpKey, type TopicPartition } from '../../protocol/topic-partition.js';
import type { AutoOffsetReset } from './consumer-config.js';

export type FetchState = 'INITIALIZING' | 'AWAIT_RESET' | 'AWAIT_VALIDATION' | 'FETCHING';

/** SubscriptionState.FetchPosition: the next offset to fetch, the epoch of the record before it, and the leader it was seen with. */
export interface FetchPosition {
  readonly offset: number;
  /** The leader epoch of the last consumed record (or the committed one), or null when unknown. */
  readonly offsetEpoch: number | null;
  /** Metadata.LeaderAndEpoch at the time the position was set. */
  readonly leader: number | null;
  readonly leaderEpoch: number | null;
}

export class TopicPartitionState {
  fetchState: FetchState = 'INITIALIZING';
  position: FetchPosition | null = null;
  resetStrategy: AutoOffsetReset | null = null;
  highWatermark: number | null = null;
  /** A reset or validation in flight or backing off until this time (SubscriptionState's nextRetryTimeMs). */
  nextRetryMs = 0;
  /** In flight: a request is out for this partition's reset / validation. */
  inFlight = false;
  constructor(readonly tp: TopicPartition) {}

  get hasValidPosition(): boolean {
    return this.fetchState === 'FETCHING';
  }
}

export type SubscriptionType = 'NONE' | 'AUTO_TOPICS' | 'USER_ASSIGNED';

export function compareTp(a: TopicPartition, b: TopicPartition): number {
  // Utils.TopicPartitionComparator: by topic, then partition.
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}

export function sortTps(tps: Iterable<TopicPartition>): TopicPartition[] {
  return [...tps].map((tp) => ({ topic: tp.topic, partition: tp.partition })).sort(compareTp);
}

export class SubscriptionState {
  type: SubscriptionType = 'NONE';
  private subscribed: string[] = [];
  private readonly assignment = new Map<string, TopicPartitionState>();

  constructor(readonly defaultResetStrategy: AutoOffsetReset) {}

  get partitionsAutoAssigned(): boolean {
    return this.type === 'AUTO_TOPICS';
  }

  subscription(): readonly string[] {
    return this.subscribed;
  }

  /** SubscriptionState.subscribe: returns true if the topics changed. */
  subscribe(topics: readonly string[]): boolean {
    if (this.type === 'USER_ASSIGNED') throw new Error('IllegalStateException: Subscription to topics, partitions and pattern are mutually exclusive');
    this.type = 'AUTO_TOPICS';
    const next = [...new Set(topics)].sort();
    const changed = next.join('\u0000') !== this.subscribed.join('\u0000');
    this.subscribed = next;
    return changed;
  }

  /** SubscriptionState.assignFromUser. */
  assignFromUser(partitions: readonly TopicPartition[]): void {
    if (this.type === 'AUTO_TOPICS') throw new Error('IllegalStateException: Subscription to topics, partitions and pattern are mutually exclusive');
    this.type = 'USER_ASSIGNED';
    this.setAssignment(partitions);
    this.subscribed = [...new Set(partitions.map((p) => p.topic))].sort();
  }

  /**
   * SubscriptionState.assignFromSubscribed: the partitions the group gave us. Partitions kept keep
   * their state (position); new ones start INITIALIZING. Returns false when an assigned topic is
   * not subscribed (checkAssignmentMatchedSubscription).
   */
  assignFromSubscribed(partitions: readonly TopicPartition[]): boolean {
    for (const tp of partitions) if (!this.subscribed.includes(tp.topic)) return false;
    this.setAssignment(partitions);
    return true;
  }

  unsubscribe(): void {
    this.type = 'NONE';
    this.subscribed = [];
    this.assignment.clear();
  }

  private setAssignment(partitions: readonly TopicPartition[]): void {
    const previous = new Map(this.assignment);
    this.assignment.clear();
    for (const tp of sortTps(partitions)) {
      const key = tpKey(tp.topic, tp.partition);
      this.assignment.set(key, previous.get(key) ?? new TopicPartitionState(tp));
    }
  }

  assignedPartitions(): TopicPartition[] {
    return [...this.assignment.values()].map((s) => s.tp);
  }

  isAssigned(tp: TopicPartition): boolean {
    return this.assignment.has(tpKey(tp.topic, tp.partition));
  }

  state(tp: TopicPartition): TopicPartitionState | undefined {
    return this.assignment.get(tpKey(tp.topic, tp.partition));
  }

  states(): TopicPartitionState[] {
    return [...this.assignment.values()];
  }

  /** SubscriptionState.allConsumed: the position of every partition with a valid position, with its epoch. */
  allConsumed(): { topic: string; partition: number; offset: number; leaderEpoch: number | null }[] {
    const out: { topic: string; partition: number; offset: number; leaderEpoch: number | null }[] = [];
    for (const s of this.assignment.values()) {
      if (s.hasValidPosition && s.position !== null) out.push({ ...s.tp, offset: s.position.offset, leaderEpoch: s.position.offsetEpoch });
    }
    return out;
  }

  /** SubscriptionState.seekUnvalidated: the position must be validated before fetching (if it has an epoch). */
  seekUnvalidated(s: TopicPartitionState, position: FetchPosition): void {
    s.position = position;
    s.resetStrategy = null;
    s.fetchState = 'AWAIT_VALIDATION';
    s.nextRetryMs = 0;
    s.inFlight = false;
  }

  /** SubscriptionState.seekValidated: fetch from here. */
  seekValidated(s: TopicPartitionState, position: FetchPosition): void {
    s.position = position;
    s.resetStrategy = null;
    s.fetchState = 'FETCHING';
    s.nextRetryMs = 0;
    s.inFlight = false;
  }

  /** SubscriptionState.requestOffsetReset. */
  requestOffsetReset(s: TopicPartitionState, strategy: AutoOffsetReset = this.defaultResetStrategy): void {
    s.fetchState = 'AWAIT_RESET';
    s.resetStrategy = strategy;
    s.nextRetryMs = 0;
    s.inFlight = false;
  }

  get hasDefaultOffsetResetPolicy(): boolean {
    return this.defaultResetStrategy !== 'none';
  }
}
