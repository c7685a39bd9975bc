/** A partition of a topic. Its key is Kafka's TopicPartition.toString(): `orders-0`. */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export function tpKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

export function tpOf(tp: TopicPartition): string {
  return tpKey(tp.topic, tp.partition);
}
