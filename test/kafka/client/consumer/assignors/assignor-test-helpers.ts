import type { AssignorMember, GroupAssignment, TopicPartition } from '../../../../../src/kafka/client/consumer/assignors/types.js';

export const tp = (topic: string, partition: number): TopicPartition => ({ topic, partition });

/** Kafka's tests compare assignments as sets (`assertAssignment`): sort for comparison. */
export function sorted(list: readonly TopicPartition[]): TopicPartition[] {
  return [...list].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
}

export function sortedAssignment(a: GroupAssignment): GroupAssignment {
  return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, sorted(v)]));
}

export function member(memberId: string, topics: string[], extra: Partial<AssignorMember> = {}): AssignorMember {
  return { memberId, topics, ...extra };
}
