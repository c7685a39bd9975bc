/**
 * The partition movements of one general sticky assignment, so that a partition moving back and
 * forth between two members is moved back instead of moving another one (stickiness).
 *
 * Kafka: clients/src/main/java/org/apache/kafka/clients/consumer/internals/AbstractStickyAssignor.java
 * (PartitionMovements, ConsumerPair).
 *
 * Iteration order: getTheActualPartitionToBeMoved takes `iterator().next()` of a
 * HashSet<TopicPartition>; JavaHashOrder reproduces which element Java returns first.
 */
import { JavaHashOrder, topicPartitionHashCode } from './java-hash-order.js';
import { tpKey } from './topic-partition.js';
import type { TopicPartition } from './types.js';

interface ConsumerPair {
  readonly src: string;
  readonly dst: string;
}

function pairKey(src: string, dst: string): string {
  return JSON.stringify([src, dst]);
}

export class PartitionMovements {
  private readonly partitionMovementsByTopic = new Map<string, Map<string, JavaHashOrder<TopicPartition>>>();
  private readonly partitionMovements = new Map<string, ConsumerPair>();

  private removeMovementRecordOfPartition(partition: TopicPartition): ConsumerPair {
    const key = tpKey(partition);
    const pair = this.partitionMovements.get(key)!;
    this.partitionMovements.delete(key);
    const forTopic = this.partitionMovementsByTopic.get(partition.topic)!;
    const pk = pairKey(pair.src, pair.dst);
    const set = forTopic.get(pk)!;
    set.remove(partition);
    if (set.size === 0) forTopic.delete(pk);
    if (forTopic.size === 0) this.partitionMovementsByTopic.delete(partition.topic);
    return pair;
  }

  private addPartitionMovementRecord(partition: TopicPartition, pair: ConsumerPair): void {
    this.partitionMovements.set(tpKey(partition), pair);
    let forTopic = this.partitionMovementsByTopic.get(partition.topic);
    if (!forTopic) {
      forTopic = new Map();
      this.partitionMovementsByTopic.set(partition.topic, forTopic);
    }
    const pk = pairKey(pair.src, pair.dst);
    let set = forTopic.get(pk);
    if (!set) {
      set = new JavaHashOrder<TopicPartition>(topicPartitionHashCode, tpKey); // new HashSet<>()
      forTopic.set(pk, set);
    }
    set.add(partition);
  }

  movePartition(partition: TopicPartition, oldConsumer: string, newConsumer: string): void {
    if (this.partitionMovements.has(tpKey(partition))) {
      // this partition has previously moved
      const existingPair = this.removeMovementRecordOfPartition(partition);
      if (existingPair.src !== newConsumer) {
        // the partition is not moving back to its previous consumer
        this.addPartitionMovementRecord(partition, { src: existingPair.src, dst: newConsumer });
      }
    } else {
      this.addPartitionMovementRecord(partition, { src: oldConsumer, dst: newConsumer });
    }
  }

  getTheActualPartitionToBeMoved(partition: TopicPartition, oldConsumer: string, newConsumer: string): TopicPartition {
    const forTopic = this.partitionMovementsByTopic.get(partition.topic);
    if (!forTopic) return partition;
    const previous = this.partitionMovements.get(tpKey(partition));
    // this partition has previously moved: it counts as moving from its original owner
    if (previous) oldConsumer = previous.src;
    const reverse = forTopic.get(pairKey(newConsumer, oldConsumer));
    if (!reverse) return partition;
    return reverse.first()!;
  }
}
