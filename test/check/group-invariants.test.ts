import { describe, expect, it } from 'vitest';
import { checkMonotonicCommittedOffsets, checkNoDoubleAssignment, type GroupHistoryItem } from '../../src/check/group-invariants.js';

const at = (ms: number, node: number, entry: GroupHistoryItem['entry']): GroupHistoryItem => ({ timeUs: ms * 1000, node, entry });
const tp = (topic: string, partition: number) => ({ topic, partition });

describe('no-double-assignment', () => {
  it('passes when each generation gives each partition to one member, even as partitions move between generations', () => {
    const h = [
      at(1, 1, { type: 'group-stable', groupId: 'g', generationId: 1, assignments: { a: [tp('t', 0), tp('t', 1)] } }),
      at(2, 1, { type: 'group-stable', groupId: 'g', generationId: 2, assignments: { a: [tp('t', 0)], b: [tp('t', 1)] } }),
      // A coordinator that takes over replays the same generation.
      at(3, 2, { type: 'group-loaded', groupId: 'g', generationId: 2, assignments: { a: [tp('t', 0)], b: [tp('t', 1)] }, offsets: [] }),
    ];
    expect(checkNoDoubleAssignment(h)).toEqual([]);
  });

  it('finds one partition given to two members of one generation, with the evidence', () => {
    const h = [
      at(1, 1, { type: 'group-stable', groupId: 'g', generationId: 4, assignments: { a: [tp('t', 0)] } }),
      at(2, 2, { type: 'group-stable', groupId: 'g', generationId: 4, assignments: { b: [tp('t', 0)] } }),
    ];
    expect(checkNoDoubleAssignment(h)).toEqual([
      {
        check: 'no-double-assignment',
        atMs: 2,
        partition: 't-0',
        message: 'group g generation 4 gives t-0 to a and to b (coordinator on broker 2)',
        evidence: { groupId: 'g', generationId: 4, partition: 't-0', members: ['a', 'b'], coordinator: 2 },
      },
    ]);
  });

  it('a static member replaced within a generation hands its partitions over (the old id is fenced)', () => {
    const h = [
      at(1, 1, { type: 'group-stable', groupId: 'g', generationId: 1, assignments: { 'i1-x': [tp('t', 0)] } }),
      at(2, 1, { type: 'group-static-member-replaced', groupId: 'g', groupInstanceId: 'i1', oldMemberId: 'i1-x', newMemberId: 'i1-y', generationId: 1 }),
      at(3, 2, { type: 'group-loaded', groupId: 'g', generationId: 1, assignments: { 'i1-y': [tp('t', 0)] }, offsets: [] }),
    ];
    expect(checkNoDoubleAssignment(h)).toEqual([]);
  });
});

describe('monotonic-committed-offsets', () => {
  it('passes when a loaded coordinator has every acknowledged commit, and when the group itself commits lower later', () => {
    const h = [
      at(1, 1, { type: 'offset-commit', groupId: 'g', topic: 't', partition: 0, offset: 10, coordinatorPartition: 7 }),
      at(2, 1, { type: 'offset-commit', groupId: 'g', topic: 't', partition: 0, offset: 4, coordinatorPartition: 7 }),
      at(3, 2, { type: 'group-loaded', groupId: 'g', generationId: 1, assignments: {}, offsets: [{ topic: 't', partition: 0, offset: 4 }] }),
      at(3, 2, { type: 'group-partition-loaded', partition: 7, groups: 1 }),
      // Another partition's load says nothing about this group.
      at(4, 3, { type: 'group-partition-loaded', partition: 8, groups: 0 }),
    ];
    expect(checkMonotonicCommittedOffsets(h)).toEqual([]);
  });

  it('finds a coordinator that loads an offset below the last acknowledged commit, or none at all', () => {
    const h = [
      at(1, 1, { type: 'offset-commit', groupId: 'g', topic: 't', partition: 0, offset: 10, coordinatorPartition: 7 }),
      at(1, 1, { type: 'offset-commit', groupId: 'g', topic: 't', partition: 1, offset: 3, coordinatorPartition: 7 }),
      at(5, 2, { type: 'group-loaded', groupId: 'g', generationId: 1, assignments: {}, offsets: [{ topic: 't', partition: 0, offset: 7 }] }),
      at(5, 2, { type: 'group-partition-loaded', partition: 7, groups: 1 }),
    ];
    const v = checkMonotonicCommittedOffsets(h);
    expect(v.map((x) => [x.partition, x.offset, x.evidence?.loaded])).toEqual([
      ['t-0', 10, 7],
      ['t-1', 3, null],
    ]);
    expect(v[0].message).toBe('group g committed t-0 at offset 10 (acknowledged at 1.000 ms), but the coordinator on broker 2 loaded offset 7');
  });

  it('a load that does not find the group at all has lost its offsets', () => {
    const h = [
      at(1, 1, { type: 'offset-commit', groupId: 'g', topic: 't', partition: 0, offset: 10, coordinatorPartition: 7 }),
      at(5, 1, { type: 'group-partition-loaded', partition: 7, groups: 0 }),
      at(9, 1, { type: 'group-partition-loaded', partition: 7, groups: 0 }),
    ];
    expect(checkMonotonicCommittedOffsets(h).map((x) => [x.partition, x.atMs, x.evidence?.loaded])).toEqual([['t-0', 5, null]]);
  });
});
