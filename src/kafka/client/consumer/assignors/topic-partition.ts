/**
 * Helpers for TopicPartition values: a string key for sets and maps (Kafka relies on
 * TopicPartition.equals/hashCode), and the comparators Kafka's assignors sort with.
 *
 * Kafka: clients/src/main/java/org/apache/kafka/common/TopicPartition.java,
 * clients/src/main/java/org/apache/kafka/clients/consumer/internals/Utils.java (PartitionComparator).
 */
import { compareJavaStrings } from './member-info.js';
import type { TopicPartition } from './types.js';

/** A key equal for equal partitions (the partition is an integer, so the last '-' splits it). */
export function tpKey(tp: TopicPartition): string {
  return `${tp.topic}-${tp.partition}`;
}

export function tp(topic: string, partition: number): TopicPartition {
  return { topic, partition };
}

/** Comparator.comparing(TopicPartition::topic).thenComparing(TopicPartition::partition). */
export function compareTopicThenPartition(a: TopicPartition, b: TopicPartition): number {
  return compareJavaStrings(a.topic, b.topic) || a.partition - b.partition;
}

/** Comparator.comparing(TopicPartition::partition).thenComparing(TopicPartition::topic). */
export function comparePartitionThenTopic(a: TopicPartition, b: TopicPartition): number {
  return a.partition - b.partition || compareJavaStrings(a.topic, b.topic);
}

/** List.remove(Object): removes the first equal element; true when one was removed. */
export function removeFromList(list: TopicPartition[], target: TopicPartition): boolean {
  const i = list.findIndex((x) => x.topic === target.topic && x.partition === target.partition);
  if (i < 0) return false;
  list.splice(i, 1);
  return true;
}

export function listContains(list: readonly TopicPartition[], target: TopicPartition): boolean {
  return list.some((x) => x.topic === target.topic && x.partition === target.partition);
}
