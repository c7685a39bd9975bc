import { describe, expect, it } from 'vitest';
import {
  JavaHashOrder,
  javaHashOrderOfStrings,
  javaStringHashCode,
  topicPartitionHashCode,
} from '../../../../../src/kafka/client/consumer/assignors/java-hash-order.js';
import type { TopicPartition } from '../../../../../src/kafka/client/consumer/assignors/types.js';

/**
 * Expected orders were printed by OpenJDK 17 (java.util.HashMap / HashSet, default constructor,
 * keys put in the order listed), with a TopicPartition class whose hashCode is Kafka's.
 */
describe('Java HashMap iteration order', () => {
  it('String.hashCode matches Java', () => {
    expect(javaStringHashCode('')).toBe(0);
    expect(javaStringHashCode('a')).toBe(97);
    expect(javaStringHashCode('Aa')).toBe(javaStringHashCode('BB'));
    expect(javaStringHashCode('hello')).toBe(99162322);
    expect(javaStringHashCode('polygenelubricants')).toBe(-2147483648);
  });

  it('TopicPartition.hashCode is 31 * (31 + partition) + topic.hashCode()', () => {
    expect(topicPartitionHashCode({ topic: 'a', partition: 0 })).toBe(31 * 31 + 97);
  });

  const cases: Array<[string[], string]> = [
    [['consumer1', 'consumer2', 'consumer3'], 'consumer3,consumer2,consumer1'],
    [['c', 'b', 'a', 'consumer-b', 'consumer-a'], 'a,b,c,consumer-b,consumer-a'],
    [
      Array.from({ length: 21 }, (_, i) => `consumer-${i}`),
      'consumer-20,consumer-11,consumer-10,consumer-6,consumer-17,consumer-5,consumer-16,consumer-4,consumer-19,consumer-3,consumer-18,consumer-2,consumer-13,consumer-1,consumer-12,consumer-0,consumer-15,consumer-14,consumer-9,consumer-8,consumer-7',
    ],
    [['Aa', 'BB', 'AaAa', 'BBBB', 'AaBB', 'BBAa', 'C#', 'Ab'], 'Aa,BB,C#,Ab,AaAa,BBBB,AaBB,BBAa'],
    [
      ['AaAaAa', 'AaAaBB', 'AaBBAa', 'AaBBBB', 'BBAaAa', 'BBAaBB', 'BBBBAa', 'BBBBBB', 'AaAaAaAa', 'x'],
      'AaAaAa,AaAaBB,AaBBAa,AaBBBB,BBAaAa,BBAaBB,BBBBAa,BBBBBB,x,AaAaAaAa',
    ],
  ];
  for (const [keys, expected] of cases) {
    it(`orders ${keys.slice(0, 3).join(',')}… as Java does`, () => {
      expect(javaHashOrderOfStrings(keys).join(',')).toBe(expected);
    });
  }

  it('orders 100 keys across resizes as Java does', () => {
    const keys = Array.from({ length: 100 }, (_, i) => `member-${(i * 7919) % 1000}`);
    expect(javaHashOrderOfStrings(keys).join(',')).toBe(
      'member-165,member-682,member-838,member-436,member-953,member-679,member-439,member-433,member-950,member-676,member-710,member-274,member-791,member-277,member-271,member-62,member-704,member-947,member-707,member-788,member-305,member-548,member-542,member-785,member-302,member-545,member-143,member-386,member-380,member-140,member-383,member-59,member-56,member-816,member-813,member-894,member-411,member-137,member-654,member-897,member-651,member-492,member-408,member-925,member-249,member-922,member-520,member-246,member-763,member-489,member-760,member-6,member-3,member-34,member-31,member-919,member-517,member-514,member-757,member-355,member-872,member-598,member-115,member-358,member-352,member-595,member-112,member-193,member-28,member-196,member-190,member-869,member-629,member-623,member-866,member-109,member-626,member-224,member-467,member-461,member-221,member-464,member-981,member-975,member-218,member-735,member-978,member-732,member-330,member-573,member-299,member-570,member-87,member-84,member-0,member-601,member-327,member-844,member-168,member-841',
    );
  });

  it('a HashSet<TopicPartition> keeps its capacity after removals, as Java does', () => {
    const set = new JavaHashOrder<TopicPartition>(topicPartitionHashCode, (p) => `${p.topic}-${p.partition}`);
    const name = (p: TopicPartition) => `${p.topic}-${p.partition}`;
    const tpOf = (p: number): TopicPartition => ({ topic: p % 2 === 0 ? 'topic1' : 't2', partition: p });
    for (let p = 0; p < 40; p++) set.add(tpOf(p));
    expect(set.values().map(name).join(', ')).toBe(
      't2-31, topic1-32, t2-29, topic1-34, t2-27, topic1-28, t2-25, topic1-30, t2-23, topic1-24, t2-21, topic1-26, t2-19, topic1-20, t2-17, topic1-22, t2-15, topic1-16, t2-13, topic1-18, t2-11, topic1-12, t2-9, topic1-14, t2-7, topic1-8, t2-5, topic1-10, t2-3, topic1-4, t2-1, topic1-6, topic1-0, topic1-2, t2-39, t2-37, t2-35, topic1-36, t2-33, topic1-38',
    );
    for (let p = 0; p < 30; p++) set.remove(tpOf(p));
    expect(set.values().map(name).join(', ')).toBe(
      't2-31, topic1-32, topic1-34, topic1-30, t2-39, t2-37, t2-35, topic1-36, t2-33, topic1-38',
    );
    set.add({ topic: 'topic1', partition: 0 });
    set.add({ topic: 'a-long-topic-name', partition: 3 });
    expect(set.values().map(name).join(', ')).toBe(
      't2-31, topic1-32, topic1-34, topic1-30, topic1-0, a-long-topic-name-3, t2-39, t2-37, t2-35, topic1-36, t2-33, topic1-38',
    );
    expect(name(set.first()!)).toBe('t2-31');

    const small = new JavaHashOrder<TopicPartition>(topicPartitionHashCode, name);
    small.add({ topic: 'topic', partition: 5 });
    small.add({ topic: 'topic', partition: 1 });
    small.add({ topic: 'other', partition: 2 });
    expect(small.values().map(name).join(', ')).toBe('topic-1, topic-5, other-2');
    expect(name(small.first()!)).toBe('topic-1');
  });
});
