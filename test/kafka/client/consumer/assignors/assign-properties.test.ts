/**
 * Properties of `assign` over random groups (fast-check), and its input validation.
 * Balance and stickiness are asserted where Kafka's tests assert them
 * (AbstractStickyAssignorTest.verifyValidityAndBalance, isFullyBalanced, testReassignmentAfterOneConsumerLeaves…).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { assign, AssignorInputError } from '../../../../../src/kafka/client/consumer/assignors/assign.js';
import type { AssignmentStrategy, AssignorMember, GroupAssignment, TopicPartition } from '../../../../../src/kafka/client/consumer/assignors/types.js';

const RUNS = process.env.KAFKAESQUE_LONG === '1' ? 3_000 : 150;
const STRATEGIES: AssignmentStrategy[] = ['range', 'roundrobin', 'sticky', 'cooperative-sticky'];
const key = (p: TopicPartition) => `${p.topic}-${p.partition}`;

const topicsArb = fc.uniqueArray(fc.constantFrom('t0', 't1', 't2', 'orders', 'Aa', 'BB'), { minLength: 1, maxLength: 4 });
const countsArb = (topics: string[]) =>
  fc.tuple(...topics.map(() => fc.integer({ min: 0, max: 9 }))).map((ns) => Object.fromEntries(topics.map((t, i) => [t, ns[i]])));

/** A group whose members own a valid (disjoint) previous assignment, possibly with stale ids. */
const groupArb = (sameTopics: boolean) =>
  topicsArb.chain((topics) =>
    fc
      .record({
        counts: countsArb(topics),
        ids: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 7 }),
        subs: fc.array(fc.subarray(topics, { minLength: 1 }), { minLength: 7, maxLength: 7 }),
        ownerSeed: fc.array(fc.integer({ min: -2, max: 6 }), { minLength: 60, maxLength: 60 }),
        statics: fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
      })
      .map(({ counts, ids, subs, ownerSeed, statics }) => {
        const owned: TopicPartition[][] = ids.map(() => []);
        let n = 0;
        for (const t of topics) {
          for (let p = 0; p < counts[t]; p++) {
            const o = ownerSeed[n++ % ownerSeed.length];
            if (o >= 0 && o < ids.length) owned[o].push({ topic: t, partition: p });
          }
        }
        const members: AssignorMember[] = ids.map((memberId, i) => ({
          memberId,
          topics: sameTopics ? topics : subs[i],
          owned: owned[i],
          generation: 5,
          ...(statics[i] ? { groupInstanceId: `instance-${memberId}` } : {}),
        }));
        return { members, counts };
      }),
  );

function subscribedPartitions(members: readonly AssignorMember[], counts: Record<string, number>): Set<string> {
  const all = new Set<string>();
  for (const m of members) for (const t of m.topics) for (let p = 0; p < (counts[t] ?? 0); p++) all.add(`${t}-${p}`);
  return all;
}

function checkValid(members: readonly AssignorMember[], counts: Record<string, number>, a: GroupAssignment, complete: boolean) {
  expect(Object.keys(a).sort()).toEqual(members.map((m) => m.memberId).sort());
  const seen = new Set<string>();
  for (const m of members) {
    for (const p of a[m.memberId]) {
      expect(m.topics).toContain(p.topic); // only subscribed topics
      expect(seen.has(key(p))).toBe(false); // at most one owner
      seen.add(key(p));
    }
  }
  const all = subscribedPartitions(members, counts);
  for (const k of seen) expect(all.has(k)).toBe(true);
  if (complete) expect(seen.size).toBe(all.size);
}

describe('assign: properties', () => {
  for (const strategy of STRATEGIES) {
    it(`${strategy}: every subscribed partition goes to exactly one subscribed member; deterministic`, () => {
      fc.assert(
        fc.property(groupArb(false), ({ members, counts }) => {
          const a = assign(strategy, members, counts);
          checkValid(members, counts, a, strategy !== 'cooperative-sticky');
          expect(assign(strategy, members, counts)).toEqual(a);
        }),
        { numRuns: RUNS },
      );
    });
  }

  for (const strategy of ['sticky', 'cooperative-sticky'] as const) {
    it(`${strategy}: balanced (max - min <= 1) when all members subscribe to the same topics`, () => {
      fc.assert(
        fc.property(groupArb(true), ({ members, counts }) => {
          const sticky = assign('sticky', members, counts);
          const sizes = Object.values(sticky).map((l) => l.length);
          expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
          if (strategy === 'cooperative-sticky') {
            // first round: the sticky assignment minus the partitions that change owner
            const coop = assign(strategy, members, counts);
            const ownerBefore = new Map<string, string>();
            for (const m of members) for (const p of m.owned ?? []) ownerBefore.set(key(p), m.memberId);
            for (const m of members) {
              const expected = sticky[m.memberId].filter((p) => {
                const prev = ownerBefore.get(key(p));
                return prev === undefined || prev === m.memberId;
              });
              expect(coop[m.memberId]).toEqual(expected);
            }
          }
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('sticky: keeps as many owned partitions as the balance allows (same subscriptions)', () => {
    fc.assert(
      fc.property(groupArb(true), ({ members, counts }) => {
        const a = assign('sticky', members, counts);
        const total = [...subscribedPartitions(members, counts)].length;
        const n = members.length;
        const minQuota = Math.floor(total / n);
        const maxQuota = Math.ceil(total / n);
        const extra = total % n; // members allowed maxQuota
        // each member keeps min(owned, quota) of its owned partitions; owners with the most keep maxQuota
        const keptBy = members.map((m) => {
          const ownedKeys = new Set((m.owned ?? []).map(key));
          return a[m.memberId].filter((p) => ownedKeys.has(key(p))).length;
        });
        const ownedCounts = members.map((m) => (m.owned ?? []).length);
        for (let i = 0; i < n; i++) {
          expect(keptBy[i]).toBeGreaterThanOrEqual(Math.min(ownedCounts[i], minQuota));
          expect(keptBy[i]).toBeLessThanOrEqual(Math.min(ownedCounts[i], maxQuota));
        }
        const keptMax = keptBy.filter((k, i) => k === maxQuota && ownedCounts[i] >= maxQuota && maxQuota > minQuota).length;
        const couldKeepMax = ownedCounts.filter((c) => c >= maxQuota).length;
        if (maxQuota > minQuota) expect(keptMax).toBe(Math.min(couldKeepMax, extra));
      }),
      { numRuns: RUNS },
    );
  });

  it('sticky: a member leaving moves only its partitions (testReassignmentAfterOneConsumerLeaves)', () => {
    fc.assert(
      fc.property(groupArb(true), ({ members, counts }) => {
        fc.pre(members.length >= 2);
        const first = assign('sticky', members.map((m) => ({ ...m, owned: [], generation: undefined })), counts);
        const remaining = members.slice(1).map((m) => ({ ...m, owned: first[m.memberId], generation: 1 }));
        const second = assign('sticky', remaining, counts);
        checkValid(remaining, counts, second, true);
        const total = subscribedPartitions(members, counts).size;
        const maxQuota = Math.ceil(total / remaining.length);
        for (const m of remaining) {
          // everything it had is kept when it had no more than the new max quota
          if (first[m.memberId].length <= maxQuota) {
            expect(second[m.memberId].slice(0, first[m.memberId].length).map(key).sort()).toEqual(first[m.memberId].map(key).sort());
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('assign: input validation', () => {
  const ok: AssignorMember[] = [{ memberId: 'a', topics: ['t'] }];
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['unknown strategy', () => assign('fair' as AssignmentStrategy, ok, { t: 1 }), /unknown assignment strategy "fair"/],
    ['duplicate memberId', () => assign('range', [...ok, ...ok], { t: 1 }), /duplicate memberId "a"/],
    ['negative partition count', () => assign('range', ok, { t: -1 }), /topic "t" has partition count -1/],
    ['non-integer partition count', () => assign('range', ok, { t: 1.5 }), /topic "t" has partition count 1.5/],
    ['empty memberId', () => assign('range', [{ memberId: '', topics: [] }], {}), /memberId must be a non-empty string/],
    [
      'duplicate groupInstanceId',
      () => assign('range', [{ memberId: 'a', groupInstanceId: 'i', topics: [] }, { memberId: 'b', groupInstanceId: 'i', topics: [] }], {}),
      /groupInstanceId "i" is already used by member "a"/,
    ],
    ['topic listed twice', () => assign('range', [{ memberId: 'a', topics: ['t', 't'] }], {}), /topic "t" is listed twice/],
    ['owned partition out of range', () => assign('sticky', [{ memberId: 'a', topics: ['t'], owned: [{ topic: 't', partition: 3 }] }], { t: 2 }), /owns t-3, but topic "t" has 2 partitions/],
    ['owned twice', () => assign('sticky', [{ memberId: 'a', topics: ['t'], owned: [{ topic: 't', partition: 0 }, { topic: 't', partition: 0 }] }], { t: 2 }), /owns t-0 twice/],
    ['bad generation', () => assign('sticky', [{ memberId: 'a', topics: ['t'], generation: -5 }], { t: 2 }), /generation -5/],
  ];
  for (const [name, run, message] of cases) {
    it(`rejects ${name}`, () => {
      expect(run).toThrow(AssignorInputError);
      expect(run).toThrow(message);
    });
  }

  it('an empty group gets an empty assignment', () => {
    expect(assign('sticky', [], { t: 3 })).toEqual({});
  });
});
