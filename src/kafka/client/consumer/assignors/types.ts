/**
 * The shapes of Kafka's consumer partition assignment, as the assignors see them.
 *
 * Kafka: clients/src/main/java/org/apache/kafka/clients/consumer/ConsumerPartitionAssignor.java
 * (Subscription: topics, ownedPartitions, groupInstanceId, generationId) and
 * clients/src/main/java/org/apache/kafka/common/TopicPartition.java.
 */

/** A partition of a topic (Kafka's TopicPartition). */
export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** The four assignors of the Kafka consumer (`partition.assignment.strategy`), by their `name()`. */
export type AssignmentStrategy = 'range' | 'roundrobin' | 'sticky' | 'cooperative-sticky';

export const ASSIGNMENT_STRATEGIES: readonly AssignmentStrategy[] = ['range', 'roundrobin', 'sticky', 'cooperative-sticky'];

/**
 * One member of the group as the leader sees it in the JoinGroup response: its member id, its
 * subscription and, for the sticky assignors, what it owned and in which generation.
 */
export interface AssignorMember {
  readonly memberId: string;
  /** `group.instance.id` of a static member; range and roundrobin order static members by it. */
  readonly groupInstanceId?: string;
  /** The subscribed topics (Subscription.topics). */
  readonly topics: readonly string[];
  /** The partitions the member owns now (Subscription.ownedPartitions, or the sticky user data). */
  readonly owned?: readonly TopicPartition[];
  /**
   * The generation in which `owned` was assigned (Subscription.generationId, or the generation in
   * the sticky user data). Absent means unknown, Kafka's Optional.empty().
   */
  readonly generation?: number;
}

/** Partition count per topic (the `partitionsPerTopic` argument of Kafka's assignors). */
export type PartitionsPerTopic = Readonly<Record<string, number>>;

/** What each member is assigned, for every member of the group. */
export type GroupAssignment = Record<string, TopicPartition[]>;

/**
 * A member as the assignors use it internally: validated, with defaults filled in. `subscription
 * order` (the order of the array these come in) is the iteration order of Kafka's subscriptions map.
 */
export interface Subscription {
  readonly memberId: string;
  readonly groupInstanceId: string | undefined;
  readonly topics: readonly string[];
  readonly ownedPartitions: readonly TopicPartition[];
  readonly generation: number | undefined;
}

/** AbstractStickyAssignor.DEFAULT_GENERATION: the generation of a member that reports none. */
export const DEFAULT_GENERATION = -1;
