/**
 * Cases ported from Kafka's clients/src/test/java/org/apache/kafka/clients/consumer/RoundRobinAssignorTest.java.
 * Kafka compares these lists with assertEquals, so the order is checked too.
 */
import { describe, expect, it } from 'vitest';
import { assign } from '../../../../../src/kafka/client/consumer/assignors/assign.js';
import { member, tp } from './assignor-test-helpers.js';

describe('RoundRobinAssignor (Kafka RoundRobinAssignorTest)', () => {
  it('testOneConsumerNoTopic', () => {
    expect(assign('roundrobin', [member('consumer', [])], {})).toEqual({ consumer: [] });
  });

  it('testOneConsumerNonexistentTopic', () => {
    expect(assign('roundrobin', [member('consumer', ['topic'])], {})).toEqual({ consumer: [] });
  });

  it('testOneConsumerOneTopic', () => {
    expect(assign('roundrobin', [member('consumer', ['topic'])], { topic: 3 })).toEqual({
      consumer: [tp('topic', 0), tp('topic', 1), tp('topic', 2)],
    });
  });

  it('testOnlyAssignsPartitionsFromSubscribedTopics', () => {
    expect(assign('roundrobin', [member('consumer', ['topic'])], { topic: 3, other: 3 })).toEqual({
      consumer: [tp('topic', 0), tp('topic', 1), tp('topic', 2)],
    });
  });

  it('testOneConsumerMultipleTopics', () => {
    expect(assign('roundrobin', [member('consumer', ['topic1', 'topic2'])], { topic1: 1, topic2: 2 })).toEqual({
      consumer: [tp('topic1', 0), tp('topic2', 0), tp('topic2', 1)],
    });
  });

  it('testTwoConsumersOneTopicOnePartition', () => {
    expect(assign('roundrobin', [member('consumer1', ['topic']), member('consumer2', ['topic'])], { topic: 1 })).toEqual({
      consumer1: [tp('topic', 0)],
      consumer2: [],
    });
  });

  it('testTwoConsumersOneTopicTwoPartitions', () => {
    expect(assign('roundrobin', [member('consumer1', ['topic']), member('consumer2', ['topic'])], { topic: 2 })).toEqual({
      consumer1: [tp('topic', 0)],
      consumer2: [tp('topic', 1)],
    });
  });

  it('testMultipleConsumersMixedTopics', () => {
    const a = assign(
      'roundrobin',
      [member('consumer1', ['topic1']), member('consumer2', ['topic1', 'topic2']), member('consumer3', ['topic1'])],
      { topic1: 3, topic2: 2 },
    );
    expect(a).toEqual({
      consumer1: [tp('topic1', 0)],
      consumer2: [tp('topic1', 1), tp('topic2', 0), tp('topic2', 1)],
      consumer3: [tp('topic1', 2)],
    });
  });

  it('testTwoConsumersTwoTopicsSixPartitions', () => {
    const a = assign('roundrobin', [member('consumer1', ['topic1', 'topic2']), member('consumer2', ['topic1', 'topic2'])], {
      topic1: 3,
      topic2: 3,
    });
    expect(a).toEqual({
      consumer1: [tp('topic1', 0), tp('topic1', 2), tp('topic2', 1)],
      consumer2: [tp('topic1', 1), tp('topic2', 0), tp('topic2', 2)],
    });
  });

  it('static members keep their assignment across member id changes (RoundRobinAssignor javadoc)', () => {
    const counts = { t0: 3, t1: 3 };
    const before = assign(
      'roundrobin',
      ['C0', 'C1', 'C2'].map((id, i) => member(id, ['t0', 't1'], { groupInstanceId: `I${i}` })),
      counts,
    );
    expect(before).toEqual({
      C0: [tp('t0', 0), tp('t1', 0)],
      C1: [tp('t0', 1), tp('t1', 1)],
      C2: [tp('t0', 2), tp('t1', 2)],
    });
    // after a rolling bounce C0 -> C5, C1 -> C3, C2 -> C4: same partitions per instance id
    const after = assign(
      'roundrobin',
      [member('C5', ['t0', 't1'], { groupInstanceId: 'I0' }), member('C3', ['t0', 't1'], { groupInstanceId: 'I1' }), member('C4', ['t0', 't1'], { groupInstanceId: 'I2' })],
      counts,
    );
    expect([after.C5, after.C3, after.C4]).toEqual([before.C0, before.C1, before.C2]);
    // without instance ids the order of the new member ids decides (the javadoc's shuffle)
    const dynamic = assign('roundrobin', ['C5', 'C3', 'C4'].map((id) => member(id, ['t0', 't1'])), counts);
    expect(dynamic.C3).toEqual([tp('t0', 0), tp('t1', 0)]);
    expect(dynamic.C5).toEqual([tp('t0', 2), tp('t1', 2)]);
  });
});
