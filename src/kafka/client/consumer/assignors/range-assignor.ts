/**
 * Kafka's RangeAssignor (`range`), the consumer's default: for each topic, the partitions in numeric
 * order are cut into contiguous ranges, one per subscribed member in MemberInfo order; the first
 * `partitions % members` members get one partition more.
 *
 * Kafka: clients/src/main/java/org/apache/kafka/clients/consumer/RangeAssignor.java
 * (assignPartitions, assignRanges, TopicAssignmentState).
 *
 * Rack-aware assignment (KIP-881: `client.rack` matched against replica racks, with
 * co-partitioning of topics that have equal partition counts and subscribers) is not modelled:
 * kafkaesque's members carry no rack, and Kafka takes the path ported here whenever no consumer
 * has a rack (`useRackAware` is false).
 */
import { sortedMemberInfos } from './member-info.js';
import type { GroupAssignment, Subscription, TopicPartition } from './types.js';

/**
 * `subscriptions` is in Kafka's subscriptions-map order; `topicsInMapOrder` lists the topics of
 * `partitionsPerTopic` in that map's iteration order (Kafka iterates it to build the
 * TopicAssignmentStates, which decides the order of each member's list, not its content).
 */
export function rangeAssign(
  partitionsPerTopic: ReadonlyMap<string, number>,
  topicsInMapOrder: readonly string[],
  subscriptions: readonly Subscription[],
): GroupAssignment {
  // consumersPerTopic: topic -> subscribed members
  const consumersPerTopic = new Map<string, Subscription[]>();
  for (const s of subscriptions) {
    for (const topic of s.topics) {
      const list = consumersPerTopic.get(topic);
      if (list) list.push(s);
      else consumersPerTopic.set(topic, [s]);
    }
  }

  const assignment: GroupAssignment = {};
  for (const s of subscriptions) assignment[s.memberId] = [];

  for (const topic of topicsInMapOrder) {
    const numPartitions = partitionsPerTopic.get(topic) ?? 0;
    if (numPartitions === 0) continue; // `.filter(e -> !e.getValue().isEmpty())`
    const consumers = sortedMemberInfos(consumersPerTopic.get(topic) ?? []);
    if (consumers.length === 0) continue;
    // TopicAssignmentState: numPartitionsPerConsumer and remainingConsumersWithExtraPartition;
    // assignRanges gives each consumer in order up to maxAssignable of the unassigned partitions.
    const numPartitionsPerConsumer = Math.floor(numPartitions / consumers.length);
    let remainingConsumersWithExtraPartition = numPartitions % consumers.length;
    let next = 0;
    for (const consumer of consumers) {
      if (next >= numPartitions) break;
      const count = numPartitionsPerConsumer + (remainingConsumersWithExtraPartition > 0 ? 1 : 0);
      if (count === 0) continue;
      if (count > numPartitionsPerConsumer) remainingConsumersWithExtraPartition--;
      const list = assignment[consumer.memberId];
      for (let p = next; p < next + count; p++) list.push({ topic, partition: p } satisfies TopicPartition);
      next += count;
    }
  }
  return assignment;
}
