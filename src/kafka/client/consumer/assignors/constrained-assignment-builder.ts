/**
 * The sticky assignors' algorithm when every member subscribes to the same topics:
 * 1. each member keeps its owned partitions up to minQuota, or maxQuota while fewer than
 *    `partitions % members` members have more than minQuota;
 * 2. the remaining partitions, sorted by topic then partition, go round-robin to the members
 *    under minQuota (sorted by member id), then one each to members at exactly minQuota.
 *
 * Kafka: clients/src/main/java/org/apache/kafka/clients/consumer/internals/AbstractStickyAssignor.java
 * (ConstrainedAssignmentBuilder: build, assignOwnedPartitions, assignRoundRobin,
 * assignNewPartition, verifyUnfilledMembers, getUnassignedPartitions).
 *
 * Iteration order: Kafka walks consumerToOwnedPartitions, a HashMap filled in subscriptions order;
 * the Map here is filled in the same (Java hash) order. The rack-aware step
 * (assignRackAwareRoundRobin) is not modelled: Kafka skips it when no consumer has a rack.
 */
import { compareJavaStrings } from './member-info.js';
import { comparePartitionThenTopic, tpKey } from './topic-partition.js';
import type { GroupAssignment, TopicPartition } from './types.js';

export class ConstrainedAssignmentBuilder {
  /** Partitions that change owner, to their new owner (for the cooperative assignor). */
  readonly partitionsTransferringOwnership = new Map<string, { tp: TopicPartition; consumer: string }>();

  private readonly allRevokedPartitions = new Set<string>();
  private readonly unfilledMembersWithUnderMinQuotaPartitions: string[] = [];
  private unfilledMembersWithExactlyMinQuotaPartitions: string[] = [];
  private readonly minQuota: number;
  private readonly maxQuota: number;
  private readonly expectedNumMembersWithOverMinQuotaPartitions: number;
  private currentNumMembersWithOverMinQuotaPartitions = 0;
  private readonly assignment: GroupAssignment = {};
  private readonly assignedPartitions: TopicPartition[] = [];

  constructor(
    private readonly partitionsPerTopic: ReadonlyMap<string, number>,
    private readonly currentAssignment: ReadonlyMap<string, readonly TopicPartition[]>,
    private readonly partitionsWithMultiplePreviousOwners: ReadonlySet<string>,
  ) {
    let total = 0;
    for (const n of partitionsPerTopic.values()) total += n;
    const numberOfConsumers = currentAssignment.size;
    this.minQuota = Math.floor(total / numberOfConsumers);
    this.maxQuota = Math.ceil(total / numberOfConsumers);
    this.expectedNumMembersWithOverMinQuotaPartitions = total % numberOfConsumers;
    for (const consumer of currentAssignment.keys()) this.assignment[consumer] = [];
  }

  build(): GroupAssignment {
    this.assignOwnedPartitions();
    const unassignedPartitions = this.getUnassignedPartitions(this.assignedPartitions);
    this.unfilledMembersWithUnderMinQuotaPartitions.sort(compareJavaStrings);
    this.unfilledMembersWithExactlyMinQuotaPartitions.sort(compareJavaStrings);
    this.assignRoundRobin(unassignedPartitions);
    this.verifyUnfilledMembers();
    return this.assignment;
  }

  /** Reassign previously owned partitions, up to the expected number of partitions per consumer. */
  private assignOwnedPartitions(): void {
    for (const [consumer, owned] of this.currentAssignment) {
      const ownedPartitions = [...owned]
        .sort(comparePartitionThenTopic)
        .filter((tp) => !this.partitionsWithMultiplePreviousOwners.has(tpKey(tp)));
      const consumerAssignment = this.assignment[consumer];

      if (ownedPartitions.length < this.minQuota) {
        // keep all the owned partitions; this member is unfilled
        consumerAssignment.push(...ownedPartitions);
        this.assignedPartitions.push(...ownedPartitions);
        this.unfilledMembersWithUnderMinQuotaPartitions.push(consumer);
      } else if (
        ownedPartitions.length >= this.maxQuota &&
        this.currentNumMembersWithOverMinQuotaPartitions < this.expectedNumMembersWithOverMinQuotaPartitions
      ) {
        // keep maxQuota of the owned partitions, revoke the rest
        this.currentNumMembersWithOverMinQuotaPartitions++;
        if (this.currentNumMembersWithOverMinQuotaPartitions === this.expectedNumMembersWithOverMinQuotaPartitions) {
          this.unfilledMembersWithExactlyMinQuotaPartitions = [];
        }
        const kept = ownedPartitions.slice(0, this.maxQuota);
        consumerAssignment.push(...kept);
        this.assignedPartitions.push(...kept);
        for (const tp of ownedPartitions.slice(this.maxQuota)) this.allRevokedPartitions.add(tpKey(tp));
      } else {
        // keep minQuota of the owned partitions, revoke the rest; may still get one more
        const kept = ownedPartitions.slice(0, this.minQuota);
        consumerAssignment.push(...kept);
        this.assignedPartitions.push(...kept);
        for (const tp of ownedPartitions.slice(this.minQuota)) this.allRevokedPartitions.add(tpKey(tp));
        if (this.currentNumMembersWithOverMinQuotaPartitions < this.expectedNumMembersWithOverMinQuotaPartitions) {
          this.unfilledMembersWithExactlyMinQuotaPartitions.push(consumer);
        }
      }
    }
  }

  /** Round-robin filling of the remaining members up to maxQuota where expected, else minQuota. */
  private assignRoundRobin(unassignedPartitions: readonly TopicPartition[]): void {
    const under = this.unfilledMembersWithUnderMinQuotaPartitions;
    // a Java iterator over the LinkedList `under`: `cursor` is the index of the next element
    let cursor = 0;
    for (let i = 0; i < unassignedPartitions.length; i++) {
      const unassignedPartition = unassignedPartitions[i];
      let consumer: string;
      let fromIterator: boolean;
      if (cursor < under.length) {
        consumer = under[cursor++];
        fromIterator = true;
      } else if (under.length === 0 && this.unfilledMembersWithExactlyMinQuotaPartitions.length === 0) {
        throw new Error(
          `sticky assignment: no more unfilled consumers to be assigned ` +
            `(Kafka's ConstrainedAssignmentBuilder throws IllegalStateException here)`,
        );
      } else if (under.length === 0) {
        consumer = this.unfilledMembersWithExactlyMinQuotaPartitions.shift()!;
        fromIterator = false;
      } else {
        cursor = 0;
        consumer = under[cursor++];
        fromIterator = true;
      }

      const currentAssignedCount = this.assignNewPartition(unassignedPartition, consumer);
      if (currentAssignedCount === this.minQuota) {
        if (!fromIterator) throw new Error('sticky assignment: iterator removal without a current element');
        under.splice(--cursor, 1); // unfilledConsumerIter.remove()
        this.unfilledMembersWithExactlyMinQuotaPartitions.push(consumer);
      } else if (currentAssignedCount === this.maxQuota) {
        this.currentNumMembersWithOverMinQuotaPartitions++;
      }
    }
  }

  private assignNewPartition(unassignedPartition: TopicPartition, consumer: string): number {
    const consumerAssignment = this.assignment[consumer];
    consumerAssignment.push(unassignedPartition);
    const key = tpKey(unassignedPartition);
    if (this.allRevokedPartitions.has(key) || this.partitionsWithMultiplePreviousOwners.has(key)) {
      this.partitionsTransferringOwnership.set(key, { tp: unassignedPartition, consumer });
    }
    return consumerAssignment.length;
  }

  private verifyUnfilledMembers(): void {
    const under = this.unfilledMembersWithUnderMinQuotaPartitions;
    if (under.length === 0) return;
    if (this.currentNumMembersWithOverMinQuotaPartitions !== this.expectedNumMembersWithOverMinQuotaPartitions) {
      throw new Error(
        "sticky assignment: we haven't reached the expected number of members with more than the minQuota " +
          "partitions, but no more partitions to be assigned (Kafka throws IllegalStateException here)",
      );
    }
    for (const member of under) {
      if (this.assignment[member].length !== this.minQuota) {
        throw new Error(
          `sticky assignment: consumer ${member} doesn't reach minQuota partitions, and no more partitions ` +
            `to be assigned (Kafka throws IllegalStateException here)`,
        );
      }
    }
  }

  /** All partitions of the sorted topics, minus the assigned ones. */
  private getUnassignedPartitions(assigned: readonly TopicPartition[]): TopicPartition[] {
    const assignedKeys = new Set(assigned.map(tpKey));
    const sortedAllTopics = [...this.partitionsPerTopic.keys()].sort(compareJavaStrings);
    const unassigned: TopicPartition[] = [];
    for (const topic of sortedAllTopics) {
      const count = this.partitionsPerTopic.get(topic)!;
      for (let partition = 0; partition < count; partition++) {
        if (!assignedKeys.has(`${topic}-${partition}`)) unassigned.push({ topic, partition });
      }
    }
    return unassigned;
  }
}
