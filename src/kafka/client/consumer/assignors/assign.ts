/**
 * `assign(strategy, members, partitionsPerTopic)`: what the group leader's assignor computes in
 * Kafka for the same members and topics.
 *
 * The input is what Kafka's ConsumerCoordinator.onLeaderElected hands its assignor: the JoinGroup
 * members, in the order given, put into a HashMap of subscriptions; then
 * AbstractPartitionAssignor.assign(Cluster, GroupSubscription) keeps only the subscribed topics that
 * have partitions. Kafka: clients/src/main/java/org/apache/kafka/clients/consumer/internals/
 * ConsumerCoordinator.java (onLeaderElected) and AbstractPartitionAssignor.java (assign).
 *
 * Where Kafka's result depends on the iteration order of a Java HashMap (the subscriptions map in
 * the sticky assignors, the topic map in the range assignor), that order is reproduced
 * (java-hash-order.ts): for member ids it depends only on the ids, and on the order of `members`
 * for ids that fall in the same bucket.
 */
import { cooperativeStickyAssignor } from './cooperative-sticky-assignor.js';
import { javaHashOrderOfStrings } from './java-hash-order.js';
import { rangeAssign } from './range-assignor.js';
import { roundRobinAssign } from './round-robin-assignor.js';
import { stickyAssignor } from './sticky-assignor.js';
import {
  ASSIGNMENT_STRATEGIES,
  DEFAULT_GENERATION,
  type AssignmentStrategy,
  type AssignorMember,
  type GroupAssignment,
  type PartitionsPerTopic,
  type Subscription,
  type TopicPartition,
} from './types.js';

const INT32_MAX = 0x7fffffff;

/** Bad input to `assign`: the message names what is wrong. */
export class AssignorInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssignorInputError';
  }
}

/**
 * Assign the partitions of `partitionsPerTopic` to `members` as Kafka's assignor named `strategy`
 * does. Returns every member's partitions (an empty array for a member with none).
 */
export function assign(
  strategy: AssignmentStrategy,
  members: readonly AssignorMember[],
  partitionsPerTopic: PartitionsPerTopic,
): GroupAssignment {
  if (!(ASSIGNMENT_STRATEGIES as readonly unknown[]).includes(strategy)) {
    throw new AssignorInputError(
      `unknown assignment strategy ${JSON.stringify(strategy)}: expected one of ${ASSIGNMENT_STRATEGIES.join(', ')}`,
    );
  }
  const counts = validatePartitionsPerTopic(partitionsPerTopic);
  const validated = validateMembers(members, counts);

  // ConsumerCoordinator: `subscriptions` is a HashMap filled in JoinGroup order
  const byId = new Map(validated.map((s) => [s.memberId, s]));
  const subscriptions = javaHashOrderOfStrings(validated.map((s) => s.memberId)).map((id) => byId.get(id)!);

  // AbstractPartitionAssignor.assign(Cluster, …): subscribed topics with partitions, in a HashMap
  const allSubscribedTopics = javaHashOrderOfStrings(subscriptions.flatMap((s) => s.topics));
  const topicsInMapOrder = javaHashOrderOfStrings(allSubscribedTopics.filter((t) => (counts.get(t) ?? 0) > 0));
  const subscribedPartitionsPerTopic = new Map(topicsInMapOrder.map((t) => [t, counts.get(t)!]));

  let raw: GroupAssignment;
  switch (strategy) {
    case 'range':
      raw = rangeAssign(subscribedPartitionsPerTopic, topicsInMapOrder, subscriptions);
      break;
    case 'roundrobin':
      raw = roundRobinAssign(subscribedPartitionsPerTopic, subscriptions);
      break;
    case 'sticky':
      raw = stickyAssignor(subscribedPartitionsPerTopic, subscriptions);
      break;
    case 'cooperative-sticky':
      raw = cooperativeStickyAssignor(subscribedPartitionsPerTopic, subscriptions);
      break;
  }

  const result: GroupAssignment = {};
  for (const s of validated) {
    result[s.memberId] = (raw[s.memberId] ?? []).map((p) => ({ topic: p.topic, partition: p.partition }));
  }
  return result;
}

function validatePartitionsPerTopic(partitionsPerTopic: PartitionsPerTopic): Map<string, number> {
  if (partitionsPerTopic === null || typeof partitionsPerTopic !== 'object' || Array.isArray(partitionsPerTopic)) {
    throw new AssignorInputError('partitionsPerTopic must be an object of topic name to partition count');
  }
  const counts = new Map<string, number>();
  for (const [topic, count] of Object.entries(partitionsPerTopic)) {
    if (topic.length === 0) throw new AssignorInputError('partitionsPerTopic: a topic name is empty');
    if (!Number.isInteger(count) || count < 0 || count > INT32_MAX) {
      throw new AssignorInputError(
        `partitionsPerTopic: topic ${JSON.stringify(topic)} has partition count ${String(count)}; expected an integer from 0 to ${INT32_MAX}`,
      );
    }
    counts.set(topic, count);
  }
  return counts;
}

function validateMembers(members: readonly AssignorMember[], counts: ReadonlyMap<string, number>): Subscription[] {
  if (!Array.isArray(members)) throw new AssignorInputError('members must be an array');
  const seenIds = new Set<string>();
  const seenInstanceIds = new Map<string, string>();
  return members.map((m, index) => {
    const where = `members[${index}]`;
    if (m === null || typeof m !== 'object') throw new AssignorInputError(`${where} must be an object`);
    if (typeof m.memberId !== 'string' || m.memberId.length === 0) {
      throw new AssignorInputError(`${where}.memberId must be a non-empty string`);
    }
    const who = `member ${JSON.stringify(m.memberId)}`;
    if (seenIds.has(m.memberId)) throw new AssignorInputError(`duplicate memberId ${JSON.stringify(m.memberId)}`);
    seenIds.add(m.memberId);

    if (m.groupInstanceId !== undefined) {
      if (typeof m.groupInstanceId !== 'string' || m.groupInstanceId.length === 0) {
        throw new AssignorInputError(`${who}: groupInstanceId must be a non-empty string when given`);
      }
      const other = seenInstanceIds.get(m.groupInstanceId);
      if (other !== undefined) {
        throw new AssignorInputError(
          `${who}: groupInstanceId ${JSON.stringify(m.groupInstanceId)} is already used by member ${JSON.stringify(other)}`,
        );
      }
      seenInstanceIds.set(m.groupInstanceId, m.memberId);
    }

    if (!Array.isArray(m.topics)) throw new AssignorInputError(`${who}: topics must be an array of topic names`);
    const topics = new Set<string>();
    for (const t of m.topics) {
      if (typeof t !== 'string' || t.length === 0) throw new AssignorInputError(`${who}: topics must be non-empty strings`);
      if (topics.has(t)) throw new AssignorInputError(`${who}: topic ${JSON.stringify(t)} is listed twice`);
      topics.add(t);
    }

    const owned: TopicPartition[] = [];
    if (m.owned !== undefined) {
      if (!Array.isArray(m.owned)) throw new AssignorInputError(`${who}: owned must be an array of { topic, partition }`);
      const seen = new Set<string>();
      for (const p of m.owned) {
        if (p === null || typeof p !== 'object' || typeof p.topic !== 'string' || p.topic.length === 0) {
          throw new AssignorInputError(`${who}: every owned partition needs a non-empty topic`);
        }
        if (!Number.isInteger(p.partition) || p.partition < 0) {
          throw new AssignorInputError(
            `${who}: owned partition ${JSON.stringify(p.topic)} ${String(p.partition)} must be a non-negative integer`,
          );
        }
        const count = counts.get(p.topic);
        if (count !== undefined && count > 0 && p.partition >= count) {
          throw new AssignorInputError(
            `${who}: owns ${p.topic}-${p.partition}, but topic ${JSON.stringify(p.topic)} has ${count} partitions`,
          );
        }
        const key = `${p.topic}-${p.partition}`;
        if (seen.has(key)) throw new AssignorInputError(`${who}: owns ${key} twice`);
        seen.add(key);
        owned.push({ topic: p.topic, partition: p.partition });
      }
    }

    if (m.generation !== undefined && (!Number.isInteger(m.generation) || m.generation < DEFAULT_GENERATION || m.generation > INT32_MAX)) {
      throw new AssignorInputError(`${who}: generation ${String(m.generation)} must be an integer from -1 to ${INT32_MAX}`);
    }

    return {
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      topics: [...m.topics],
      ownedPartitions: owned,
      generation: m.generation,
    };
  });
}
