/**
 * Cases ported from Kafka's clients/src/test/java/org/apache/kafka/clients/consumer/RangeAssignorTest.java
 * (the non-rack-aware variants). Kafka's assertAssignment compares as sets; so do these.
 */
import { describe, expect, it } from 'vitest';
import { assign } from '../../../../../src/kafka/client/consumer/assignors/assign.js';
import { member, sorted, sortedAssignment, tp } from './assignor-test-helpers.js';

const topic1 = 'topic1';
const topic2 = 'topic2';
const consumer1 = 'consumer1';
const consumer2 = 'consumer2';
const consumer3 = 'consumer3';

describe('RangeAssignor (Kafka RangeAssignorTest)', () => {
  it('testOneConsumerNoTopic', () => {
    expect(assign('range', [member(consumer1, [])], {})).toEqual({ [consumer1]: [] });
  });

  it('testOneConsumerNonexistentTopic', () => {
    expect(assign('range', [member(consumer1, [topic1])], {})).toEqual({ [consumer1]: [] });
  });

  it('testOneConsumerOneTopic', () => {
    expect(assign('range', [member(consumer1, [topic1])], { [topic1]: 3 })).toEqual({
      [consumer1]: [tp(topic1, 0), tp(topic1, 1), tp(topic1, 2)],
    });
  });

  it('testOnlyAssignsPartitionsFromSubscribedTopics', () => {
    expect(assign('range', [member(consumer1, [topic1])], { [topic1]: 3, other: 3 })).toEqual({
      [consumer1]: [tp(topic1, 0), tp(topic1, 1), tp(topic1, 2)],
    });
  });

  it('testOneConsumerMultipleTopics', () => {
    const a = assign('range', [member(consumer1, [topic1, topic2])], { [topic1]: 1, [topic2]: 2 });
    expect(sorted(a[consumer1])).toEqual([tp(topic1, 0), tp(topic2, 0), tp(topic2, 1)]);
  });

  it('testTwoConsumersOneTopicOnePartition', () => {
    const a = assign('range', [member(consumer1, [topic1]), member(consumer2, [topic1])], { [topic1]: 1 });
    expect(a).toEqual({ [consumer1]: [tp(topic1, 0)], [consumer2]: [] });
  });

  it('testTwoConsumersOneTopicTwoPartitions', () => {
    const a = assign('range', [member(consumer1, [topic1]), member(consumer2, [topic1])], { [topic1]: 2 });
    expect(a).toEqual({ [consumer1]: [tp(topic1, 0)], [consumer2]: [tp(topic1, 1)] });
  });

  it('testMultipleConsumersMixedTopics', () => {
    const a = assign(
      'range',
      [member(consumer1, [topic1]), member(consumer2, [topic1, topic2]), member(consumer3, [topic1])],
      { [topic1]: 3, [topic2]: 2 },
    );
    expect(sortedAssignment(a)).toEqual({
      [consumer1]: [tp(topic1, 0)],
      [consumer2]: [tp(topic1, 1), tp(topic2, 0), tp(topic2, 1)],
      [consumer3]: [tp(topic1, 2)],
    });
  });

  it('testTwoConsumersTwoTopicsSixPartitions', () => {
    const a = assign('range', [member(consumer1, [topic1, topic2]), member(consumer2, [topic1, topic2])], {
      [topic1]: 3,
      [topic2]: 3,
    });
    expect(sortedAssignment(a)).toEqual({
      [consumer1]: [tp(topic1, 0), tp(topic1, 1), tp(topic2, 0), tp(topic2, 1)],
      [consumer2]: [tp(topic1, 2), tp(topic2, 2)],
    });
  });

  it('testTwoStaticConsumersTwoTopicsSixPartitions: static members are ordered by instance id', () => {
    const a = assign(
      'range',
      [
        member('consumer-b', [topic1, topic2], { groupInstanceId: 'instance1' }),
        member('consumer-a', [topic1, topic2], { groupInstanceId: 'instance2' }),
      ],
      { [topic1]: 3, [topic2]: 3 },
    );
    expect(sortedAssignment(a)).toEqual({
      'consumer-b': [tp(topic1, 0), tp(topic1, 1), tp(topic2, 0), tp(topic2, 1)],
      'consumer-a': [tp(topic1, 2), tp(topic2, 2)],
    });
  });

  it('testOneStaticConsumerAndOneDynamicConsumerTwoTopicsSixPartitions: static members come first', () => {
    const a = assign(
      'range',
      [member('consumer-b', [topic1, topic2], { groupInstanceId: 'instance1' }), member('consumer-a', [topic1, topic2])],
      { [topic1]: 3, [topic2]: 3 },
    );
    expect(sortedAssignment(a)).toEqual({
      'consumer-b': [tp(topic1, 0), tp(topic1, 1), tp(topic2, 0), tp(topic2, 1)],
      'consumer-a': [tp(topic1, 2), tp(topic2, 2)],
    });
  });

  it('testStaticMemberRangeAssignmentPersistent', () => {
    const statics = [consumer1, consumer2, consumer3].map((c, i) =>
      member(c, [topic1, topic2], { groupInstanceId: `instance${i + 1}` }),
    );
    const counts = { [topic1]: 5, [topic2]: 4 };
    const expected = {
      [consumer1]: [tp(topic1, 0), tp(topic1, 1), tp(topic2, 0)],
      [consumer2]: [tp(topic1, 2), tp(topic2, 1)],
      [consumer3]: [tp(topic1, 3), tp(topic2, 2)],
    };
    expect(sortedAssignment(assign('range', [...statics, member('consumer4', [topic1, topic2])], counts))).toEqual({
      ...expected,
      consumer4: [tp(topic1, 4), tp(topic2, 3)],
    });
    // Replace dynamic member 4 with a new dynamic member 5.
    expect(sortedAssignment(assign('range', [...statics, member('consumer5', [topic1, topic2])], counts))).toEqual({
      ...expected,
      consumer5: [tp(topic1, 4), tp(topic2, 3)],
    });
  });

  it('testStaticMemberRangeAssignmentPersistentAfterMemberIdChanges', () => {
    const counts = { [topic1]: 5, [topic2]: 5 };
    const byInstance = (ids: string[]) => {
      const members = ids.map((id, i) => member(id, [topic1, topic2], { groupInstanceId: `instance${i + 1}` }));
      const a = assign('range', members, counts);
      return Object.fromEntries(members.map((m) => [m.groupInstanceId!, sorted(a[m.memberId])]));
    };
    const before = byInstance([consumer1, consumer2, consumer3]);
    expect(before).toEqual({
      instance1: [tp(topic1, 0), tp(topic1, 1), tp(topic2, 0), tp(topic2, 1)],
      instance2: [tp(topic1, 2), tp(topic1, 3), tp(topic2, 2), tp(topic2, 3)],
      instance3: [tp(topic1, 4), tp(topic2, 4)],
    });
    // switch the member ids: consumer3 -> consumer4, consumer2 -> consumer5
    expect(byInstance([consumer1, 'consumer5', 'consumer4'])).toEqual(before);
  });

  it('gives each member its list topic by topic (Kafka iterates its topic HashMap)', () => {
    // String.hashCode("topic1") is one less than "topic2", so Java iterates topic1 first.
    const a = assign('range', [member(consumer1, [topic2, topic1])], { [topic1]: 2, [topic2]: 1 });
    expect(a[consumer1]).toEqual([tp(topic1, 0), tp(topic1, 1), tp(topic2, 0)]);
  });
});
