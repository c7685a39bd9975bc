/**
 * Kafka's StickyAssignor (`sticky`, eager protocol): the sticky assignment of
 * AbstractStickyAssignor, returned as is. Each member's previous assignment and generation come
 * from its user data in Kafka, from `owned` and `generation` here.
 *
 * Kafka: clients/src/main/java/org/apache/kafka/clients/consumer/StickyAssignor.java (memberData).
 */
import { stickyAssign } from './abstract-sticky-assignor.js';
import type { GroupAssignment, Subscription } from './types.js';

export function stickyAssignor(
  partitionsPerTopic: ReadonlyMap<string, number>,
  subscriptions: readonly Subscription[],
): GroupAssignment {
  return stickyAssign(partitionsPerTopic, subscriptions).assignment;
}
