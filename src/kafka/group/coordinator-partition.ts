/** The group metadata topic (Topic.GROUP_METADATA_TOPIC_NAME). */
export const GROUP_METADATA_TOPIC_NAME = '__consumer_offsets';

/**
 * Java's String.hashCode: s[0]*31^(n-1) + ... + s[n-1] over UTF-16 code units, in int32
 * arithmetic with overflow. JavaScript strings are UTF-16 too, so charCodeAt is the code unit.
 */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * Kafka's Utils.abs (clients/.../common/utils/Utils.java): Math.abs, except that
 * Integer.MIN_VALUE (whose Math.abs is itself, negative) maps to 0.
 */
export function kafkaAbs(n: number): number {
  return n === -2147483648 ? 0 : Math.abs(n);
}

/**
 * The __consumer_offsets partition whose leader coordinates `groupId`:
 * Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions
 * (GroupCoordinatorService.partitionFor / topicPartitionFor).
 */
export function groupCoordinatorPartition(groupId: string, numPartitions: number): number {
  if (!Number.isInteger(numPartitions) || numPartitions <= 0) throw new RangeError(`numPartitions must be a positive integer, got ${numPartitions}`);
  return kafkaAbs(javaStringHashCode(groupId)) % numPartitions;
}

/**
 * The __consumer_offsets topic as Kafka creates it (GroupCoordinatorService.groupMetadataTopicConfigs
 * and AutoTopicCreationManager): `offsets.topic.num.partitions` partitions at
 * `offsets.topic.replication.factor`, compacted.
 */
export function offsetsTopicSpec(config: { readonly 'offsets.topic.num.partitions': number; readonly 'offsets.topic.replication.factor': number }): {
  name: string;
  partitions: number;
  replicationFactor: number;
  config: Record<string, string>;
} {
  return {
    name: GROUP_METADATA_TOPIC_NAME,
    partitions: config['offsets.topic.num.partitions'],
    replicationFactor: config['offsets.topic.replication.factor'],
    config: { 'cleanup.policy': 'compact' },
  };
}
