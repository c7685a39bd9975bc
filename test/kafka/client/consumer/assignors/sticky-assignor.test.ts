/**
 * Cases ported from Kafka's
 * clients/src/test/java/org/apache/kafka/clients/consumer/internals/AbstractStickyAssignorTest.java
 * (run there for StickyAssignorTest and CooperativeStickyAssignorTest; the NO_CONSUMER_RACK
 * variants). Kafka compares these lists with assertEquals, so list order is checked too. The
 * cooperative variant is checked as the sticky result minus the partitions changing owner.
 */
import { describe, expect, it } from 'vitest';
import { assign } from '../../../../../src/kafka/client/consumer/assignors/assign.js';
import type { AssignorMember } from '../../../../../src/kafka/client/consumer/assignors/types.js';
import { member, tp } from './assignor-test-helpers.js';

const topic = 'topic';
const topic1 = 'topic1';
const topic2 = 'topic2';
const consumerId = 'consumer';
const consumer1 = 'consumer1';
const consumer2 = 'consumer2';
const consumer3 = 'consumer3';
const generationId = 1;

describe('sticky assignors (Kafka AbstractStickyAssignorTest)', () => {
  for (const strategy of ['sticky', 'cooperative-sticky'] as const) {
    describe(strategy, () => {
      it('testOneConsumerNoTopic', () => {
        expect(assign(strategy, [member(consumerId, [])], {})).toEqual({ [consumerId]: [] });
      });

      it('testOneConsumerNonexistentTopic', () => {
        expect(assign(strategy, [member(consumerId, [topic])], { [topic]: 0 })).toEqual({ [consumerId]: [] });
      });

      it('testOneConsumerOneTopic', () => {
        expect(assign(strategy, [member(consumerId, [topic])], { [topic]: 3 })).toEqual({
          [consumerId]: [tp(topic, 0), tp(topic, 1), tp(topic, 2)],
        });
      });

      it('testOnlyAssignsPartitionsFromSubscribedTopics', () => {
        const owned = [tp(topic, 0), tp(topic, 1), tp('other', 0), tp('other', 1)];
        expect(assign(strategy, [member(consumerId, [topic], { owned, generation: generationId })], { [topic]: 2 })).toEqual({
          [consumerId]: [tp(topic, 0), tp(topic, 1)],
        });
      });

      it('testOneConsumerMultipleTopics', () => {
        expect(assign(strategy, [member(consumerId, [topic1, topic2])], { [topic1]: 1, [topic2]: 2 })).toEqual({
          [consumerId]: [tp(topic1, 0), tp(topic2, 0), tp(topic2, 1)],
        });
      });

      it('testTwoConsumersOneTopicOnePartition', () => {
        const a = assign(strategy, [member(consumer1, [topic]), member(consumer2, [topic])], { [topic]: 1 });
        expect([...a[consumer1], ...a[consumer2]]).toEqual([tp(topic, 0)]);
      });

      it('testTwoConsumersOneTopicTwoPartitions', () => {
        expect(assign(strategy, [member(consumer1, [topic]), member(consumer2, [topic])], { [topic]: 2 })).toEqual({
          [consumer1]: [tp(topic, 0)],
          [consumer2]: [tp(topic, 1)],
        });
      });

      it('testMultipleConsumersMixedTopicSubscriptions', () => {
        const a = assign(
          strategy,
          [member(consumer1, [topic1]), member(consumer2, [topic1, topic2]), member(consumer3, [topic1])],
          { [topic1]: 3, [topic2]: 2 },
        );
        expect(a).toEqual({
          [consumer1]: [tp(topic1, 0), tp(topic1, 2)],
          [consumer2]: [tp(topic2, 0), tp(topic2, 1)],
          [consumer3]: [tp(topic1, 1)],
        });
      });

      it('testTwoConsumersTwoTopicsSixPartitions', () => {
        const a = assign(strategy, [member(consumer1, [topic1, topic2]), member(consumer2, [topic1, topic2])], {
          [topic1]: 3,
          [topic2]: 3,
        });
        expect(a).toEqual({
          [consumer1]: [tp(topic1, 0), tp(topic1, 2), tp(topic2, 1)],
          [consumer2]: [tp(topic1, 1), tp(topic2, 0), tp(topic2, 2)],
        });
      });

      it('testConsumerOwningMinQuotaExpectedMaxQuota', () => {
        const topics = [topic1, topic2];
        const a = assign(
          strategy,
          [
            member(consumer1, topics, { owned: [tp(topic1, 0), tp(topic2, 1)], generation: generationId }),
            member(consumer2, topics, { owned: [tp(topic1, 1), tp(topic2, 2)], generation: generationId }),
          ],
          { [topic1]: 2, [topic2]: 3 },
        );
        expect(a).toEqual({
          [consumer1]: [tp(topic1, 0), tp(topic2, 1), tp(topic2, 0)],
          [consumer2]: [tp(topic1, 1), tp(topic2, 2)],
        });
      });

      it('testMaxQuotaConsumerMoreThanNumExpectedMaxCapacityMembers', () => {
        const topics = [topic1, topic2];
        const a = assign(
          strategy,
          [
            member(consumer1, topics, { owned: [tp(topic1, 0), tp(topic2, 0)], generation: generationId }),
            member(consumer2, topics, { owned: [tp(topic1, 1), tp(topic2, 1)], generation: generationId }),
            member(consumer3, topics, { owned: [], generation: generationId }),
          ],
          { [topic1]: 2, [topic2]: 2 },
        );
        // partitionsTransferringOwnership == { topic2-0: consumer3 }: the cooperative assignor leaves it out
        expect(a).toEqual({
          [consumer1]: [tp(topic1, 0)],
          [consumer2]: [tp(topic1, 1), tp(topic2, 1)],
          [consumer3]: strategy === 'sticky' ? [tp(topic2, 0)] : [],
        });
      });

      it('testAllConsumersAreUnderMinQuota', () => {
        const topics = [topic1, topic2];
        const a = assign(
          strategy,
          [
            member(consumer1, topics, { owned: [tp(topic1, 0)], generation: generationId }),
            member(consumer2, topics, { owned: [tp(topic1, 1)], generation: generationId }),
            member(consumer3, topics, { owned: [], generation: generationId }),
          ],
          { [topic1]: 2, [topic2]: 3 },
        );
        expect(a).toEqual({
          [consumer1]: [tp(topic1, 0), tp(topic2, 1)],
          [consumer2]: [tp(topic1, 1), tp(topic2, 2)],
          [consumer3]: [tp(topic2, 0)],
        });
      });

      it('testAddRemoveConsumerOneTopic', () => {
        const counts = { [topic]: 3 };
        const first = assign(strategy, [member(consumer1, [topic])], counts);
        expect(first[consumer1]).toEqual([tp(topic, 0), tp(topic, 1), tp(topic, 2)]);
        const second = assign(
          strategy,
          [
            member(consumer1, [topic], { owned: first[consumer1], generation: generationId }),
            member(consumer2, [topic], { owned: [], generation: generationId }),
          ],
          counts,
        );
        // partitionsTransferringOwnership == { topic-2: consumer2 }
        expect(second).toEqual({
          [consumer1]: [tp(topic, 0), tp(topic, 1)],
          [consumer2]: strategy === 'sticky' ? [tp(topic, 2)] : [],
        });
      });
    });
  }

  it('same-generation double claims are revoked from both claimers (allSubscriptionsEqual)', () => {
    const members: AssignorMember[] = [
      member(consumer1, [topic], { owned: [tp(topic, 0), tp(topic, 1)], generation: 3 }),
      member(consumer2, [topic], { owned: [tp(topic, 0), tp(topic, 2)], generation: 3 }),
    ];
    const sticky = assign('sticky', members, { [topic]: 4 });
    expect(Object.values(sticky).flat()).toHaveLength(4);
    // topic-0 changes owner whoever gets it, so the cooperative first round leaves it out
    const coop = assign('cooperative-sticky', members, { [topic]: 4 });
    expect(Object.values(coop).flat().some((p) => p.partition === 0)).toBe(false);
  });

  it('a claim of a newer generation wins over an older one', () => {
    const a = assign(
      'sticky',
      [
        member(consumer1, [topic], { owned: [tp(topic, 0), tp(topic, 1)], generation: 2 }),
        member(consumer2, [topic], { owned: [tp(topic, 0)], generation: 1 }),
      ],
      { [topic]: 2 },
    );
    expect(a).toEqual({ [consumer1]: [tp(topic, 0)], [consumer2]: [tp(topic, 1)] });
  });
});
