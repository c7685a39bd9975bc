import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { groupCoordinatorPartition, javaStringHashCode, kafkaAbs } from '../../../src/kafka/group/coordinator-partition.js';

/** String.hashCode computed from its definition with BigInt, independently of the implementation. */
function referenceHashCode(s: string): number {
  let h = 0n;
  for (let i = 0; i < s.length; i++) h = (h * 31n + BigInt(s.charCodeAt(i))) % (1n << 32n);
  const v = Number(h);
  return v >= 2 ** 31 ? v - 2 ** 32 : v;
}

describe('groupCoordinatorPartition: Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions', () => {
  // Java's String.hashCode values (well-known ones: "hello" 99162322, "abc" 96354; "polygenelubricants",
  // "GydZG_" and "DESIGNING WORKHOUSES" hash to Integer.MIN_VALUE).
  const vectors: [string, number, number][] = [
    ['', 0, 0],
    ['a', 97, 47],
    ['abc', 96354, 4],
    ['hello', 99162322, 22],
    ['Aa', 2112, 12],
    ['BB', 2112, 12],
    ['my-group', -1906497762, 12],
    ['test-group', 627841412, 12],
    ['billing', -109829509, 9],
    ['consumer-group-1', 147483020, 20],
    ['orders', -1008770331, 31],
    ['Zürich', -1482116162, 12],
    // A surrogate pair: hashed as two UTF-16 code units, as Java does.
    ['😀', 1772899, 49],
    ['polygenelubricants', -2147483648, 0],
    ['GydZG_', -2147483648, 0],
    ['DESIGNING WORKHOUSES', -2147483648, 0],
  ];

  it.each(vectors)('hashCode(%j) = %i, partition %i of 50', (groupId, hash, partition) => {
    expect(javaStringHashCode(groupId)).toBe(hash);
    expect(groupCoordinatorPartition(groupId, 50)).toBe(partition);
  });

  it('Utils.abs maps Integer.MIN_VALUE to 0, not to a negative partition', () => {
    expect(kafkaAbs(-2147483648)).toBe(0);
    expect(kafkaAbs(-5)).toBe(5);
    expect(groupCoordinatorPartition('polygenelubricants', 7)).toBe(0);
  });

  it('agrees with the BigInt definition and stays in range for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.integer({ min: 1, max: 200 }), (s, n) => {
        expect(javaStringHashCode(s)).toBe(referenceHashCode(s));
        const p = groupCoordinatorPartition(s, n);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThan(n);
      }),
    );
  });

  it('rejects a non-positive partition count', () => {
    expect(() => groupCoordinatorPartition('g', 0)).toThrow(RangeError);
  });
});
