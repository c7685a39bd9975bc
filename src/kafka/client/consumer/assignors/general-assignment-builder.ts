/**
 * The sticky assignors' algorithm when members subscribe to different topics: keep every valid
 * owned partition, give each unassigned partition to the least loaded member that subscribes to
 * its topic, then move partitions from the most to the least loaded members until the assignment
 * is balanced, preferring to move a partition back to its owner of the previous generation, and
 * keep the result only if it is better balanced than the sticky starting point.
 *
 * Kafka: clients/src/main/java/org/apache/kafka/clients/consumer/internals/AbstractStickyAssignor.java
 * (GeneralAssignmentBuilder, TopicComparator, SubscriptionComparator) and
 * clients/src/main/java/org/apache/kafka/clients/consumer/internals/Utils.java (PartitionComparator).
 *
 * Iteration order: Kafka's subscriptions and currentAssignment HashMaps are walked in Java hash
 * order (`subscriptions` arrive in it); the TreeSet of members is a sorted array here; the
 * HashSet in PartitionMovements is reproduced by JavaHashOrder. The rack-aware branches
 * (RackInfo with consumer racks) are not modelled: Kafka skips them when no consumer has a rack.
 */
import { compareJavaStrings } from './member-info.js';
import { PartitionMovements } from './partition-movements.js';
import { removeFromList, tpKey } from './topic-partition.js';
import { DEFAULT_GENERATION, type GroupAssignment, type Subscription, type TopicPartition } from './types.js';

interface ConsumerGenerationPair {
  readonly consumer: string;
  readonly generation: number;
}

/** Where Kafka's code would throw a NullPointerException on this input. */
function kafkaWouldFail(what: string): Error {
  return new Error(`sticky assignment: ${what} (Kafka's AbstractStickyAssignor fails here with a NullPointerException)`);
}

export class GeneralAssignmentBuilder {
  private readonly topic2AllPotentialConsumers = new Map<string, string[]>();
  private readonly consumer2AllPotentialTopics = new Map<string, string[]>();
  private readonly subscribedTopics = new Map<string, ReadonlySet<string>>();
  private readonly currentPartitionConsumer = new Map<string, string>();
  private sortedAllPartitions: TopicPartition[];
  /** TreeSet<String>(SubscriptionComparator): members by assignment size, then member id. */
  private sortedCurrentSubscriptions: string[] = [];
  private revocationRequired = false;
  private readonly totalPartitionsCount: number;
  private readonly partitionMovements = new PartitionMovements();
  /** Each member's current assignment; members whose assignment cannot change are taken out. */
  private readonly currentAssignment: Map<string, TopicPartition[]>;

  constructor(
    private readonly partitionsPerTopic: ReadonlyMap<string, number>,
    currentAssignment: Map<string, TopicPartition[]>,
    private readonly subscriptions: readonly Subscription[],
    private readonly maxGeneration: number,
  ) {
    this.currentAssignment = currentAssignment;
    let total = 0;
    for (const n of partitionsPerTopic.values()) total += n;
    this.totalPartitionsCount = total;

    for (const topic of partitionsPerTopic.keys()) this.topic2AllPotentialConsumers.set(topic, []);
    for (const s of subscriptions) {
      const topics: string[] = [];
      this.consumer2AllPotentialTopics.set(s.memberId, topics);
      this.subscribedTopics.set(s.memberId, new Set(s.topics));
      for (const topic of s.topics) {
        if (!partitionsPerTopic.has(topic)) continue;
        topics.push(topic);
        this.topic2AllPotentialConsumers.get(topic)!.push(s.memberId);
      }
      if (!currentAssignment.has(s.memberId)) currentAssignment.set(s.memberId, []);
    }

    for (const [consumer, partitions] of currentAssignment) {
      for (const tp of partitions) this.currentPartitionConsumer.set(tpKey(tp), consumer);
    }

    // TopicComparator: topics with fewer potential consumers first, then by name
    const sortedAllTopics = [...this.topic2AllPotentialConsumers.keys()].sort(
      (a, b) =>
        this.topic2AllPotentialConsumers.get(a)!.length - this.topic2AllPotentialConsumers.get(b)!.length ||
        compareJavaStrings(a, b),
    );
    this.sortedAllPartitions = [];
    for (const topic of sortedAllTopics) {
      const count = partitionsPerTopic.get(topic)!;
      for (let partition = 0; partition < count; partition++) this.sortedAllPartitions.push({ topic, partition });
    }
  }

  build(): GroupAssignment {
    const prevAssignment = new Map<string, ConsumerGenerationPair>();
    this.prepopulateCurrentAssignments(prevAssignment);
    const assignedPartitions = this.assignOwnedPartitions();
    const unassignedPartitions = this.getUnassignedPartitions(assignedPartitions);
    for (const consumer of this.currentAssignment.keys()) this.addSorted(consumer);
    this.balance(prevAssignment, unassignedPartitions);
    const result: GroupAssignment = {};
    for (const [consumer, partitions] of this.currentAssignment) result[consumer] = partitions;
    return result;
  }

  // --- the TreeSet of members -------------------------------------------------------------

  private size(consumer: string): number {
    const list = this.currentAssignment.get(consumer);
    if (!list) throw kafkaWouldFail(`member ${consumer} has no current assignment`);
    return list.length;
  }

  private compareSubscriptions(a: string, b: string): number {
    return this.size(a) - this.size(b) || compareJavaStrings(a, b);
  }

  private addSorted(consumer: string): void {
    const arr = this.sortedCurrentSubscriptions;
    let lo = 0;
    let hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.compareSubscriptions(arr[mid], consumer);
      if (c === 0) return; // already present
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    arr.splice(lo, 0, consumer);
  }

  private removeSorted(consumer: string): void {
    const i = this.sortedCurrentSubscriptions.indexOf(consumer);
    if (i >= 0) this.sortedCurrentSubscriptions.splice(i, 1);
  }

  // --- steps of build() -------------------------------------------------------------------

  /** Keep the owned partitions whose member still subscribes to their topic. */
  private assignOwnedPartitions(): TopicPartition[] {
    const assignedPartitions: TopicPartition[] = [];
    for (const [consumer, partitions] of this.currentAssignment) {
      const subscribed = this.subscribedTopics.get(consumer)!;
      for (let i = 0; i < partitions.length; ) {
        const partition = partitions[i];
        if (!this.topic2AllPotentialConsumers.has(partition.topic)) {
          // the topic no longer exists
          partitions.splice(i, 1);
          this.currentPartitionConsumer.delete(tpKey(partition));
        } else if (!subscribed.has(partition.topic)) {
          // the consumer is no longer subscribed to its topic (currentPartitionConsumer kept, as in Kafka)
          partitions.splice(i, 1);
          this.revocationRequired = true;
        } else {
          assignedPartitions.push(partition);
          i++;
        }
      }
    }
    return assignedPartitions;
  }

  /** sortedAllPartitions minus the assigned ones (same order: PartitionComparator). */
  private getUnassignedPartitions(assigned: readonly TopicPartition[]): TopicPartition[] {
    if (assigned.length === 0) return this.sortedAllPartitions; // the same list, as in Kafka
    const assignedKeys = new Set(assigned.map(tpKey));
    return this.sortedAllPartitions.filter((tp) => !assignedKeys.has(tpKey(tp)));
  }

  private updatePrevAssignment(
    prevAssignment: Map<string, ConsumerGenerationPair>,
    partitions: readonly TopicPartition[],
    consumer: string,
    generation: number,
  ): void {
    for (const partition of partitions) {
      const key = tpKey(partition);
      const existing = prevAssignment.get(key);
      // only keep the latest previous assignment
      if (!existing || generation > existing.generation) prevAssignment.set(key, { consumer, generation });
    }
  }

  /** The previous owner of each partition claimed in an older generation than the newest. */
  private prepopulateCurrentAssignments(prevAssignment: Map<string, ConsumerGenerationPair>): void {
    for (const s of this.subscriptions) {
      if (s.generation !== undefined && s.generation < this.maxGeneration) {
        this.updatePrevAssignment(prevAssignment, s.ownedPartitions, s.memberId, s.generation);
      } else if (s.generation === undefined && this.maxGeneration > DEFAULT_GENERATION) {
        this.updatePrevAssignment(prevAssignment, s.ownedPartitions, s.memberId, DEFAULT_GENERATION);
      }
    }
  }

  private isBalanced(): boolean {
    const sorted = this.sortedCurrentSubscriptions;
    const min = this.size(sorted[0]);
    const max = this.size(sorted[sorted.length - 1]);
    if (min >= max - 1) return true;

    const allPartitions = new Map<string, string>();
    for (const [consumer, partitions] of this.currentAssignment) {
      for (const tp of partitions) allPartitions.set(tpKey(tp), consumer);
    }
    for (const consumer of sorted) {
      const consumerPartitions = this.currentAssignment.get(consumer)!;
      const consumerPartitionCount = consumerPartitions.length;
      const allSubscribedTopics = this.consumer2AllPotentialTopics.get(consumer)!;
      if (consumerPartitionCount === this.getMaxAssignmentSize(allSubscribedTopics)) continue;
      const owned = new Set(consumerPartitions.map(tpKey));
      for (const topic of allSubscribedTopics) {
        const partitionCount = this.partitionsPerTopic.get(topic)!;
        for (let i = 0; i < partitionCount; i++) {
          const key = `${topic}-${i}`;
          if (owned.has(key)) continue;
          const otherConsumer = allPartitions.get(key);
          if (otherConsumer === undefined) throw kafkaWouldFail(`partition ${key} has no current consumer`);
          if (consumerPartitionCount + 1 < this.size(otherConsumer)) return false;
        }
      }
    }
    return true;
  }

  private getMaxAssignmentSize(allSubscribedTopics: readonly string[]): number {
    if (allSubscribedTopics.length === this.partitionsPerTopic.size) return this.totalPartitionsCount;
    let sum = 0;
    for (const topic of allSubscribedTopics) sum += this.partitionsPerTopic.get(topic)!;
    return sum;
  }

  /** The sum over all pairs of members of the difference of their assignment sizes. */
  private getBalanceScore(assignment: ReadonlyMap<string, readonly TopicPartition[]>): number {
    const sizes = [...assignment.values()].map((l) => l.length);
    let score = 0;
    for (let i = 0; i < sizes.length; i++) {
      for (let j = i + 1; j < sizes.length; j++) score += Math.abs(sizes[i] - sizes[j]);
    }
    return score;
  }

  private maybeAssignPartition(partition: TopicPartition): boolean {
    for (const consumer of this.sortedCurrentSubscriptions) {
      if (this.consumer2AllPotentialTopics.get(consumer)!.includes(partition.topic)) {
        this.removeSorted(consumer);
        this.currentAssignment.get(consumer)!.push(partition);
        this.currentPartitionConsumer.set(tpKey(partition), consumer);
        this.addSorted(consumer);
        return true;
      }
    }
    return false;
  }

  private canTopicParticipateInReassignment(topic: string): boolean {
    return this.topic2AllPotentialConsumers.get(topic)!.length >= 2;
  }

  private canConsumerParticipateInReassignment(consumer: string): boolean {
    const currentPartitions = this.currentAssignment.get(consumer)!;
    const maxAssignmentSize = this.getMaxAssignmentSize(this.consumer2AllPotentialTopics.get(consumer)!);
    if (currentPartitions.length < maxAssignmentSize) return true;
    return currentPartitions.some((tp) => this.canTopicParticipateInReassignment(tp.topic));
  }

  private balance(prevAssignment: ReadonlyMap<string, ConsumerGenerationPair>, unassigned: TopicPartition[]): void {
    const sorted = this.sortedCurrentSubscriptions;
    const initializing = this.currentAssignment.get(sorted[sorted.length - 1])!.length === 0;

    for (const partition of unassigned) {
      if (this.topic2AllPotentialConsumers.get(partition.topic)!.length === 0) continue;
      this.maybeAssignPartition(partition);
    }

    // narrow the reassignment down to partitions that can actually move
    const fixedTopics = new Set(
      [...this.topic2AllPotentialConsumers.keys()].filter((t) => !this.canTopicParticipateInReassignment(t)),
    );
    const sameList = unassigned === this.sortedAllPartitions;
    this.sortedAllPartitions = this.sortedAllPartitions.filter((tp) => !fixedTopics.has(tp.topic));
    const unassignedPartitions = sameList ? this.sortedAllPartitions : unassigned.filter((tp) => !fixedTopics.has(tp.topic));

    // and to members whose assignment can change
    const fixedAssignments = new Map<string, TopicPartition[]>();
    for (const consumer of this.consumer2AllPotentialTopics.keys()) {
      if (!this.canConsumerParticipateInReassignment(consumer)) {
        this.removeSorted(consumer);
        fixedAssignments.set(consumer, this.currentAssignment.get(consumer)!);
        this.currentAssignment.delete(consumer);
      }
    }

    // a copy to revert to if the reassignment does not improve the balance
    const preBalanceAssignment = new Map([...this.currentAssignment].map(([c, l]) => [c, [...l]] as const));
    const preBalancePartitionConsumers = new Map(this.currentPartitionConsumer);

    if (!this.revocationRequired) this.performReassignments(unassignedPartitions, prevAssignment);
    const reassignmentPerformed = this.performReassignments(this.sortedAllPartitions, prevAssignment);

    if (
      !initializing &&
      reassignmentPerformed &&
      this.getBalanceScore(this.currentAssignment) >= this.getBalanceScore(preBalanceAssignment)
    ) {
      this.currentAssignment.clear();
      for (const [c, l] of preBalanceAssignment) this.currentAssignment.set(c, [...l]);
      this.currentPartitionConsumer.clear();
      for (const [k, v] of preBalancePartitionConsumers) this.currentPartitionConsumer.set(k, v);
    }

    // add the fixed assignments (those that could not change) back
    for (const [consumer, partitions] of fixedAssignments) this.currentAssignment.set(consumer, partitions);
  }

  private performReassignments(
    reassignablePartitions: readonly TopicPartition[],
    prevAssignment: ReadonlyMap<string, ConsumerGenerationPair>,
  ): boolean {
    let reassignmentPerformed = false;
    let modified: boolean;
    do {
      modified = false;
      for (let i = 0; i < reassignablePartitions.length && !this.isBalanced(); i++) {
        const partition = reassignablePartitions[i];
        const consumer = this.currentPartitionConsumer.get(tpKey(partition));
        if (consumer === undefined) throw kafkaWouldFail(`partition ${tpKey(partition)} has no current consumer`);

        const prev = prevAssignment.get(tpKey(partition));
        if (prev && this.size(consumer) > this.size(prev.consumer) + 1) {
          this.reassignPartitionTo(partition, prev.consumer);
          reassignmentPerformed = true;
          modified = true;
          continue;
        }

        // is there a better-suited consumer for the partition?
        for (const otherConsumer of this.topic2AllPotentialConsumers.get(partition.topic)!) {
          if (this.size(consumer) > this.size(otherConsumer) + 1) {
            this.reassignPartition(partition);
            reassignmentPerformed = true;
            modified = true;
            break;
          }
        }
      }
    } while (modified);
    return reassignmentPerformed;
  }

  /** Move the partition to the least loaded member subscribed to its topic. */
  private reassignPartition(partition: TopicPartition): void {
    const newConsumer = this.sortedCurrentSubscriptions.find((c) =>
      this.consumer2AllPotentialTopics.get(c)!.includes(partition.topic),
    )!;
    this.reassignPartitionTo(partition, newConsumer);
  }

  private reassignPartitionTo(partition: TopicPartition, newConsumer: string): void {
    const consumer = this.currentPartitionConsumer.get(tpKey(partition))!;
    // find the correct partition movement considering the stickiness requirement
    const partitionToBeMoved = this.partitionMovements.getTheActualPartitionToBeMoved(partition, consumer, newConsumer);
    this.processPartitionMovement(partitionToBeMoved, newConsumer);
  }

  private processPartitionMovement(partition: TopicPartition, newConsumer: string): void {
    const oldConsumer = this.currentPartitionConsumer.get(tpKey(partition))!;
    this.size(oldConsumer);
    this.size(newConsumer); // TreeSet.remove compares by size: a missing member fails in Kafka
    this.removeSorted(oldConsumer);
    this.removeSorted(newConsumer);
    this.partitionMovements.movePartition(partition, oldConsumer, newConsumer);
    removeFromList(this.currentAssignment.get(oldConsumer)!, partition);
    this.currentAssignment.get(newConsumer)!.push(partition);
    this.currentPartitionConsumer.set(tpKey(partition), newConsumer);
    this.addSorted(newConsumer);
    this.addSorted(oldConsumer);
  }
}
