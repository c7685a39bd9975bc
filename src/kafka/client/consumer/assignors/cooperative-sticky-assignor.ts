/**
 * Kafka's CooperativeStickyAssignor (`cooperative-sticky`, KIP-429): the sticky assignment, minus
 * every partition that changes owner. Under the cooperative protocol the old owner must first
 * revoke such a partition; it is assigned to its new owner in the follow-up rebalance.
 *
 * Kafka: clients/src/main/java/org/apache/kafka/clients/consumer/CooperativeStickyAssignor.java
 * (assignPartitions, adjustAssignment, computePartitionsTransferringOwnership, memberData).
 */
import { stickyAssign } from './abstract-sticky-assignor.js';
import { removeFromList, tpKey } from './topic-partition.js';
import type { GroupAssignment, Subscription, TopicPartition } from './types.js';

export function cooperativeStickyAssignor(
  partitionsPerTopic: ReadonlyMap<string, number>,
  subscriptions: readonly Subscription[],
): GroupAssignment {
  const { assignment, partitionsTransferringOwnership } = stickyAssign(partitionsPerTopic, subscriptions);
  const transferring = partitionsTransferringOwnership ?? computePartitionsTransferringOwnership(subscriptions, assignment);
  // adjustAssignment: leave out the partitions that must be revoked first
  for (const { tp, consumer } of transferring.values()) removeFromList(assignment[consumer], tp);
  return assignment;
}

/** The partitions assigned to a member that did not own them and revoked from one that did. */
function computePartitionsTransferringOwnership(
  subscriptions: readonly Subscription[],
  assignment: GroupAssignment,
): Map<string, { tp: TopicPartition; consumer: string }> {
  const allAddedPartitions = new Map<string, { tp: TopicPartition; consumer: string }>();
  const allRevokedPartitions = new Set<string>();
  for (const s of subscriptions) {
    const assigned = assignment[s.memberId] ?? [];
    const ownedSet = new Set(s.ownedPartitions.map(tpKey));
    for (const tp of assigned) {
      if (!ownedSet.has(tpKey(tp))) allAddedPartitions.set(tpKey(tp), { tp, consumer: s.memberId });
    }
    const assignedSet = new Set(assigned.map(tpKey));
    for (const tp of s.ownedPartitions) {
      if (!assignedSet.has(tpKey(tp))) allRevokedPartitions.add(tpKey(tp));
    }
  }
  for (const key of [...allAddedPartitions.keys()]) {
    if (!allRevokedPartitions.has(key)) allAddedPartitions.delete(key);
  }
  return allAddedPartitions;
}
