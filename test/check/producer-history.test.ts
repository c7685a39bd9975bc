import { describe, expect, it } from 'vitest';
import { checkDuplicates, checkInconsistentOffsets, checkLostUnacknowledgedWrites, checkNonmonotonicSends, type HistoryItem } from '../../src/check/producer-history.js';
import { labelFindings, permittedBy, verdictOf, type ConfigFacts } from '../../src/check/permissions.js';

const at = (ms: number, node: number, entry: HistoryItem['entry']): HistoryItem => ({ timeUs: ms * 1000, node, entry });
const send = (ms: number, node: number, phase: string, value: string, offset?: number) => at(ms, node, { type: 'send', phase, value, topic: 't', partition: 0, ...(offset === undefined ? {} : { offset }) });
const name = (id: number) => `producer-${id}`;

describe('duplicate', () => {
  it('finds a value at two offsets, and nothing in a log of distinct values', () => {
    const logs = new Map([
      ['t-0', [{ offset: 0, value: 'a' }, { offset: 1, value: 'b' }, { offset: 2, value: 'a' }]],
      ['t-1', [{ offset: 0, value: 'a' }]],
    ]);
    expect(checkDuplicates(logs)).toEqual([{ check: 'duplicate', atMs: 0, partition: 't-0', offset: 2, message: 'a is in t-0 2 times, at offsets 0, 2', evidence: { value: 'a', partition: 't-0', offsets: [0, 2] } }]);
    expect(checkDuplicates(new Map([['t-0', [{ offset: 0, value: 'a' }, { offset: 1, value: 'b' }]]]))).toEqual([]);
  });
});

describe('nonmonotonic-send', () => {
  it('finds a later send acknowledged at a lower offset, per producer and partition', () => {
    const h = [send(1, 1, 'invoke', 'x'), send(2, 1, 'invoke', 'y'), send(3, 1, 'ok', 'y', 5), send(4, 1, 'ok', 'x', 6), send(5, 2, 'invoke', 'z'), send(6, 2, 'ok', 'z', 1)];
    const v = checkNonmonotonicSends(h, name);
    expect(v.map((x) => [x.partition, x.offset, x.evidence?.earlier, x.evidence?.later])).toEqual([['t-0', 5, { value: 'x', offset: 6 }, { value: 'y', offset: 5 }]]);
    expect(v[0].message).toBe('producer-1 sent x before y, but t-0 has them at offsets 6 and 5');
  });

  it('ignores records the log no longer holds at their offset (those are lost writes)', () => {
    const h = [send(1, 1, 'invoke', 'x'), send(2, 1, 'invoke', 'y'), send(3, 1, 'ok', 'x', 6), send(4, 1, 'ok', 'y', 5)];
    expect(checkNonmonotonicSends(h, name, (_p, _o, value) => value !== 'x')).toEqual([]);
    expect(checkNonmonotonicSends(h, name)).toHaveLength(1);
  });
});

describe('inconsistent-offsets', () => {
  it('finds two values reported at one offset, by acknowledgements or reads; one value twice is fine', () => {
    const h = [
      send(1, 1, 'ok', 'a', 3),
      at(2, 9, { type: 'poll', records: [{ topic: 't', partition: 0, offset: 3, value: 'a' }] }),
      send(3, 1, 'ok', 'b', 3),
      at(4, 9, { type: 'poll', records: [{ topic: 't', partition: 0, offset: 3, value: 'c' }] }),
    ];
    const v = checkInconsistentOffsets(h);
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({ check: 'inconsistent-offsets', partition: 't-0', offset: 3, evidence: { values: ['a', 'b'] } });
  });
});

describe('permitted by configuration', () => {
  const facts = (over: Partial<ConfigFacts> = {}): ConfigFacts => ({
    producers: new Map([
      ['producer-1', { acks: 1, idempotent: false }],
      ['producer-2', { acks: -1, idempotent: true }],
    ]),
    uncleanElection: false,
    powerLossWithoutFsync: false,
    switchesOff: [],
    singleReplicaOffsets: false,
    ...over,
  });
  const lost = (producer: string) => ({ check: 'lost-write', atMs: 1, message: 'gone', evidence: { producer } });

  it('acks=1 permits lost writes; acks=all does not, unless the cluster side allows loss', () => {
    expect(permittedBy(lost('producer-1'), facts())).toBe('acks=1');
    expect(permittedBy(lost('producer-2'), facts())).toBeUndefined();
    expect(permittedBy(lost('producer-2'), facts({ uncleanElection: true }))).toBe('unclean.leader.election.enable=true');
    expect(permittedBy(lost('producer-2'), facts({ powerLossWithoutFsync: true }))).toBe('no fsync (log.flush.interval.messages) and a power loss');
    expect(permittedBy(lost('producer-2'), facts({ switchesOff: ['leaderEpochTruncation'] }))).toBe('protocol switch off: leaderEpochTruncation');
  });

  it('duplicates and reordering are permitted without idempotence only', () => {
    const dup = (value: string) => ({ check: 'duplicate', atMs: 0, message: 'twice', evidence: { value } });
    expect(permittedBy(dup('producer-1/0:7'), facts())).toBe('enable.idempotence=false');
    expect(permittedBy(dup('producer-2/0:7'), facts())).toBeUndefined();
    expect(permittedBy({ check: 'nonmonotonic-send', atMs: 0, message: '', evidence: { producer: 'producer-2' } }, facts({ switchesOff: ['idempotentProducer'] }))).toBe('protocol switch off: idempotentProducer');
  });

  it('labels each finding, and the verdict needs every expected check and nothing outside expect and allow', () => {
    const labelled = labelFindings([lost('producer-1'), lost('producer-2')], facts());
    expect(labelled.map((v) => v.permitted)).toEqual(['acks=1', undefined]);
    const dup = { check: 'duplicate', atMs: 0, message: '' };
    expect(verdictOf(['lost-write'], labelled)).toBe('pass');
    expect(verdictOf([], labelled)).toBe('fail');
    expect(verdictOf(['lost-write', 'duplicate'], labelled)).toBe('fail');
    expect(verdictOf(['lost-write'], [...labelled, dup])).toBe('fail');
    expect(verdictOf(['lost-write'], [...labelled, dup], ['duplicate'])).toBe('pass');
    expect(verdictOf(['lost-write'], labelled, ['duplicate'])).toBe('pass');
  });
});

describe('lost-unacknowledged-write', () => {
  it('an acks=0 send whose value no partition of its topic holds; acknowledged sends and kept values are not counted', () => {
    const h = [
      at(1, 1, { type: 'send', phase: 'info', acks: 0, topic: 't', partition: 0, value: 'gone' }),
      at(2, 1, { type: 'send', phase: 'info', acks: 0, topic: 't', value: 'kept' }),
      at(3, 1, { type: 'send', phase: 'info', topic: 't', value: 'timed-out', error: 'TimeoutException' }),
    ];
    const v = checkLostUnacknowledgedWrites(h, () => new Set(['kept']), name);
    expect(v.map((x) => [x.check, x.partition, x.evidence?.value])).toEqual([['lost-unacknowledged-write', 't-0', 'gone']]);
  });
});
