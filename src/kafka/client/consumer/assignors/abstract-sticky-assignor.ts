/**
 * The common part of Kafka's StickyAssignor and CooperativeStickyAssignor: read each member's
 * previously owned partitions and generation, resolve conflicting claims, then run the
 * constrained algorithm when every member subscribes to the same topics, or the general one.
 *
 * Kafka: clients/src/main/java/org/apache/kafka/clients/consumer/internals/AbstractStickyAssignor.java
 * (assignPartitions, allSubscriptionsEqual, MemberData, DEFAULT_GENERATION).
 *
 * Iteration order: Kafka iterates its subscriptions HashMap here; `subscriptions` arrive in that
 * map's Java iteration order (see assign.ts), so conflicting claims resolve as in Kafka.
 * Not modelled: rack-aware assignment (RackInfo); with no consumer rack Kafka's RackInfo is empty
 * and every rack branch below is skipped, as here. Kafka keeps `maxGeneration` in the assignor
 * instance across calls; here it is the largest generation of this call's members, which is the
 * same whenever generations only grow.
 */
import { ConstrainedAssignmentBuilder } from './constrained-assignment-builder.js';
import { GeneralAssignmentBuilder } from './general-assignment-builder.js';
import { removeFromList, tpKey } from './topic-partition.js';
import { DEFAULT_GENERATION, type GroupAssignment, type Subscription, type TopicPartition } from './types.js';

export interface StickyAssignResult {
  readonly assignment: GroupAssignment;
  /**
   * Partitions moving from one member to another, to their new owner: Kafka's
   * `partitionsTransferringOwnership`, computed by the constrained algorithm only; null after the
   * general one (the cooperative assignor then computes it from the owned partitions).
   */
  readonly partitionsTransferringOwnership: Map<string, { tp: TopicPartition; consumer: string }> | null;
}

export function stickyAssign(
  partitionsPerTopic: ReadonlyMap<string, number>,
  subscriptions: readonly Subscription[],
): StickyAssignResult {
  const consumerToOwnedPartitions = new Map<string, TopicPartition[]>();
  const partitionsWithMultiplePreviousOwners = new Set<string>();
  const { allEqual, maxGeneration } = allSubscriptionsEqual(
    new Set(partitionsPerTopic.keys()),
    subscriptions,
    consumerToOwnedPartitions,
    partitionsWithMultiplePreviousOwners,
  );
  if (allEqual) {
    const builder = new ConstrainedAssignmentBuilder(
      partitionsPerTopic,
      consumerToOwnedPartitions,
      partitionsWithMultiplePreviousOwners,
    );
    const assignment = builder.build();
    return { assignment, partitionsTransferringOwnership: builder.partitionsTransferringOwnership };
  }
  const builder = new GeneralAssignmentBuilder(partitionsPerTopic, consumerToOwnedPartitions, subscriptions, maxGeneration);
  return { assignment: builder.build(), partitionsTransferringOwnership: null };
}

/**
 * AbstractStickyAssignor.allSubscriptionsEqual: true iff all members have the same subscription.
 * Fills `consumerToOwnedPartitions` with each member's owned partitions of existing topics, a
 * partition claimed by two members going to the higher generation, or to neither (and into
 * `partitionsWithMultiplePreviousOwners`) when the generations are equal.
 */
function allSubscriptionsEqual(
  allTopics: ReadonlySet<string>,
  subscriptions: readonly Subscription[],
  consumerToOwnedPartitions: Map<string, TopicPartition[]>,
  partitionsWithMultiplePreviousOwners: Set<string>,
): { allEqual: boolean; maxGeneration: number } {
  let isAllSubscriptionsEqual = true;
  let maxGeneration = DEFAULT_GENERATION;
  // Kafka quirk kept: the set is filled from the first member whose subscription is non-empty.
  const subscribedTopics = new Set<string>();
  const allPreviousPartitionsToOwner = new Map<string, string>();
  const generationOf = new Map(subscriptions.map((s) => [s.memberId, s.generation ?? DEFAULT_GENERATION]));

  for (const subscription of subscriptions) {
    const consumer = subscription.memberId;
    if (subscribedTopics.size === 0) {
      for (const t of subscription.topics) subscribedTopics.add(t);
    } else if (
      isAllSubscriptionsEqual &&
      !(subscription.topics.length === subscribedTopics.size && subscription.topics.every((t) => subscribedTopics.has(t)))
    ) {
      isAllSubscriptionsEqual = false;
    }

    const memberGeneration = subscription.generation ?? DEFAULT_GENERATION;
    maxGeneration = Math.max(maxGeneration, memberGeneration);

    const ownedPartitions: TopicPartition[] = [];
    consumerToOwnedPartitions.set(consumer, ownedPartitions);

    for (const tp of subscription.ownedPartitions) {
      if (!allTopics.has(tp.topic)) continue;
      const key = tpKey(tp);
      const otherConsumer = allPreviousPartitionsToOwner.get(key);
      if (otherConsumer === undefined) {
        // this partition is not owned by other consumer in the same generation
        ownedPartitions.push(tp);
        allPreviousPartitionsToOwner.set(key, consumer);
      } else {
        const otherMemberGeneration = generationOf.get(otherConsumer)!;
        if (memberGeneration === otherMemberGeneration) {
          // two members of the same generation own the same partition: revoke it from both
          partitionsWithMultiplePreviousOwners.add(key);
          removeFromList(consumerToOwnedPartitions.get(otherConsumer)!, tp);
          allPreviousPartitionsToOwner.set(key, consumer);
        } else if (memberGeneration > otherMemberGeneration) {
          // move the partition from the member with the older generation to this one
          ownedPartitions.push(tp);
          removeFromList(consumerToOwnedPartitions.get(otherConsumer)!, tp);
          allPreviousPartitionsToOwner.set(key, consumer);
        }
        // else: the other member, of a newer generation, keeps it
      }
    }
  }
  return { allEqual: isAllSubscriptionsEqual, maxGeneration };
}
