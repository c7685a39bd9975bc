/**
 * Kafka's RoundRobinAssignor (`roundrobin`): all partitions of all subscribed topics, sorted by
 * topic then partition, dealt in turn to the members in MemberInfo order, skipping members not
 * subscribed to the partition's topic.
 *
 * Kafka: clients/src/main/java/org/apache/kafka/clients/consumer/RoundRobinAssignor.java
 * (assign, allPartitionsSorted) with org.apache.kafka.common.utils.CircularIterator.
 */
import { compareJavaStrings, sortedMemberInfos } from './member-info.js';
import type { GroupAssignment, Subscription } from './types.js';

export function roundRobinAssign(
  partitionsPerTopic: ReadonlyMap<string, number>,
  subscriptions: readonly Subscription[],
): GroupAssignment {
  const assignment: GroupAssignment = {};
  for (const s of subscriptions) assignment[s.memberId] = [];
  const members = sortedMemberInfos(subscriptions);
  if (members.length === 0) return assignment;
  const subscribed = new Map(members.map((m) => [m.memberId, new Set(m.topics)]));

  // allPartitionsSorted: a TreeSet of every subscribed topic, each topic's partitions in order
  const topics = [...new Set(subscriptions.flatMap((s) => s.topics))].sort(compareJavaStrings);
  let cursor = 0; // CircularIterator over the sorted members
  for (const topic of topics) {
    const numPartitions = partitionsPerTopic.get(topic);
    if (numPartitions === undefined) continue;
    for (let partition = 0; partition < numPartitions; partition++) {
      // `while (!subscriptions.get(assigner.peek().memberId).topics().contains(topic)) assigner.next()`;
      // some member subscribes to the topic, since the topic came from a subscription.
      while (!subscribed.get(members[cursor].memberId)!.has(topic)) cursor = (cursor + 1) % members.length;
      assignment[members[cursor].memberId].push({ topic, partition });
      cursor = (cursor + 1) % members.length;
    }
  }
  return assignment;
}
