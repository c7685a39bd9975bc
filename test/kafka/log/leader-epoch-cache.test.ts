import { describe, expect, it } from 'vitest';
import { LeaderEpochFileCache } from '../../../src/kafka/broker/log/leader-epoch-cache.js';
import { DiskRig } from './log-rig.js';

const FILE = 't-0/leader-epoch-checkpoint';
const UNDEFINED = { epoch: -1, endOffset: -1 };

function newCache(rig = new DiskRig()) {
  return new LeaderEpochFileCache(rig.handle, FILE);
}

const e = (epoch: number, startOffset: number) => ({ epoch, startOffset });

// Cases ported from Kafka's LeaderEpochFileCacheTest.java (storage/src/test/java/org/apache/kafka/
// storage/internals/epoch/), with their expected values.
describe('LeaderEpochFileCache: endOffsetFor (trunk, KIP-279)', () => {
  it('answers the LEO for the latest epoch (shouldAddEpochAndMessageOffsetToCache, shouldReturnLogEndOffsetIfLatestEpochRequested)', () => {
    const cache = newCache();
    cache.assign(2, 10);
    expect(cache.latestEpoch()).toBe(2);
    expect(cache.entries()[0]).toEqual(e(2, 10));
    expect(cache.endOffsetFor(2, 11)).toEqual({ epoch: 2, endOffset: 11 });
    cache.assign(2, 12);
    expect(cache.endOffsetFor(2, 14)).toEqual({ epoch: 2, endOffset: 14 });
  });

  it('answers UNDEFINED for the UNDEFINED epoch, with or without entries', () => {
    const cache = newCache();
    expect(cache.endOffsetFor(-1, 73)).toEqual(UNDEFINED);
    cache.assign(2, 11);
    cache.assign(3, 12);
    expect(cache.endOffsetFor(-1, 0)).toEqual(UNDEFINED);
  });

  it('answers UNDEFINED from an empty cache (shouldReturnUnsupportedIfNoEpochRecorded, shouldFetchEndOffsetOfEmptyCache)', () => {
    expect(newCache().endOffsetFor(0, 0)).toEqual(UNDEFINED);
    expect(newCache().endOffsetFor(7, 0)).toEqual(UNDEFINED);
  });

  it('answers (requested, first start offset) for an epoch older than the first (shouldReturnFirstEpochIfRequestedEpochLessThanFirstEpoch)', () => {
    const cache = newCache();
    cache.assign(5, 11);
    cache.assign(6, 12);
    cache.assign(7, 13);
    expect(cache.endOffsetFor(4, 0)).toEqual({ epoch: 4, endOffset: 11 });
  });

  it('answers (floor epoch, next start offset) between entries (shouldReturnNextAvailableEpochIfThereIsNoExactEpochForTheOneRequested)', () => {
    const cache = newCache();
    cache.assign(0, 10);
    cache.assign(2, 13);
    cache.assign(4, 17);
    expect(cache.endOffsetFor(1, 0)).toEqual({ epoch: 0, endOffset: 13 });
    expect(cache.endOffsetFor(2, 0)).toEqual({ epoch: 2, endOffset: 17 });
    expect(cache.endOffsetFor(3, 0)).toEqual({ epoch: 2, endOffset: 17 });
  });

  it('answers UNDEFINED for an epoch newer than all (shouldReturnInvalidOffsetIfEpochIsRequestedWhichIsNotCurrentlyTracked)', () => {
    const cache = newCache();
    cache.assign(2, 100);
    expect(cache.endOffsetFor(3, 100)).toEqual(UNDEFINED);
  });

  it('ends a previous epoch where the next starts (shouldGetFirstOffsetOfSubsequentEpochWhenOffsetRequestedForPreviousEpoch)', () => {
    const cache = newCache();
    for (const [epoch, offset] of [[1, 11], [1, 12], [2, 13], [2, 14], [3, 15], [3, 16]]) cache.assign(epoch, offset);
    expect(cache.endOffsetFor(2, 17)).toEqual({ epoch: 2, endOffset: 15 });
  });

  it('tracks many leader changes (shouldIncreaseAndTrackEpochsAsLeadersChangeManyTimes)', () => {
    const cache = newCache();
    cache.assign(0, 0);
    cache.assign(1, 0);
    expect(cache.latestEpoch()).toBe(1);
    expect(cache.endOffsetFor(1, 0)).toEqual({ epoch: 1, endOffset: 0 });
    expect(cache.endOffsetFor(0, 0)).toEqual({ epoch: 0, endOffset: 0 });
    expect(cache.endOffsetFor(1, 5)).toEqual({ epoch: 1, endOffset: 5 });
    expect(cache.endOffsetFor(0, 5)).toEqual({ epoch: 0, endOffset: 0 });
    cache.assign(2, 5);
    expect(cache.endOffsetFor(2, 10)).toEqual({ epoch: 2, endOffset: 10 });
    expect(cache.endOffsetFor(1, 10)).toEqual({ epoch: 1, endOffset: 5 });
    expect(cache.endOffsetFor(0, 10)).toEqual({ epoch: 0, endOffset: 0 });
  });
});

describe('LeaderEpochFileCache: endOffsetForPreKip279 (0.11–1.1, epochEndOffsetLookup off)', () => {
  const cache = newCache();
  cache.assign(1, 0);
  cache.assign(3, 10);
  cache.assign(5, 20);

  it.each([
    ['the latest epoch: the LEO', 5, { epoch: -1, endOffset: 30 }],
    ['a cached epoch: where the next starts', 3, { epoch: -1, endOffset: 20 }],
    ['an epoch between entries: where the first later one starts (trunk says (3, 20))', 4, { epoch: -1, endOffset: 20 }],
    ['an epoch older than the first: UNDEFINED (trunk says (0, 0))', 0, UNDEFINED],
    ['an epoch newer than all: UNDEFINED', 6, UNDEFINED],
    ['the UNDEFINED epoch: UNDEFINED', -1, UNDEFINED],
  ])('%s', (_name, requested, expected) => {
    expect(cache.endOffsetForPreKip279(requested, 30)).toEqual(expected);
  });

  it('answers UNDEFINED from an empty cache', () => {
    expect(newCache().endOffsetForPreKip279(0, 5)).toEqual(UNDEFINED);
  });
});

describe('LeaderEpochFileCache: assign', () => {
  it('keeps the first start offset of an epoch (shouldNotOverwriteLogEndOffsetForALeaderEpochOnceItHasBeenAssigned)', () => {
    const cache = newCache();
    cache.assign(2, 9);
    expect(cache.assign(2, 10)).toBe(false);
    expect(cache.entries()).toEqual([e(2, 9)]);
  });

  it('replaces an entry with the same start offset (shouldEnforceMonotonicallyIncreasingStartOffsets)', () => {
    const cache = newCache();
    cache.assign(2, 9);
    cache.assign(3, 9);
    expect(cache.entries()).toEqual([e(3, 9)]);
  });

  it('removes conflicting tail entries for a same epoch at an earlier offset (shouldTruncateIfMatchingEpochButEarlierStartingOffset)', () => {
    const cache = newCache();
    cache.assign(5, 11);
    cache.assign(6, 12);
    cache.assign(7, 13);
    cache.assign(7, 12);
    expect(cache.entries()).toEqual([e(5, 11), e(7, 12)]);
    expect(cache.endOffsetFor(5, 0)).toEqual({ epoch: 5, endOffset: 12 });
    expect(cache.endOffsetFor(6, 0)).toEqual({ epoch: 5, endOffset: 12 });
  });

  it('removes later epochs for an older epoch at a later offset (shouldEnforceMonotonicallyIncreasingEpochs)', () => {
    const cache = newCache();
    cache.assign(1, 5);
    cache.assign(2, 6);
    cache.assign(1, 7);
    expect(cache.latestEpoch()).toBe(1);
    expect(cache.endOffsetFor(1, 8)).toEqual({ epoch: 1, endOffset: 8 });
    expect(cache.endOffsetFor(2, 8)).toEqual(UNDEFINED);
    expect(cache.entries()).toEqual([e(1, 7)]);
  });

  it('removes entries at later offsets for a newer epoch at an earlier offset (shouldEnforceOffsetsIncreaseMonotonically)', () => {
    const cache = newCache();
    cache.assign(2, 6);
    cache.assign(3, 5);
    expect(cache.entries()).toEqual([e(3, 5)]);
  });

  it('rejects a negative epoch or offset as a bug (IllegalArgumentException in Kafka)', () => {
    expect(() => newCache().assign(-1, 0)).toThrow(/invalid entry/);
    expect(() => newCache().assign(0, -1)).toThrow(/invalid entry/);
  });

  it('persists with an atomic write, read back by load (shouldPersistEpochsBetweenInstances)', () => {
    const rig = new DiskRig();
    const cache = newCache(rig);
    cache.assign(2, 6);
    cache.assign(4, 9);
    rig.drain();
    rig.powerLoss();
    expect(LeaderEpochFileCache.load(rig.handle, FILE).entries()).toEqual([e(2, 6), e(4, 9)]);
  });

  it('loads an empty cache from a missing file', () => {
    expect(LeaderEpochFileCache.load(new DiskRig().handle, FILE).entries()).toEqual([]);
  });
});

describe('LeaderEpochFileCache: truncation', () => {
  function threeEntries(rig = new DiskRig()) {
    const cache = newCache(rig);
    cache.assign(2, 6);
    cache.assign(3, 8);
    cache.assign(4, 11);
    return cache;
  }

  it.each([
    ['shouldDropEntriesOnEpochBoundaryWhenRemovingLatestEntries', 8, [e(2, 6)]],
    ['shouldDropEntriesBetweenEpochBoundaryWhenRemovingNewest', 9, [e(2, 6), e(3, 8)]],
    ['shouldNotResetEpochHistoryTailIfUndefinedPassed', -1, [e(2, 6), e(3, 8), e(4, 11)]],
    ['beyond the last entry: nothing', 12, [e(2, 6), e(3, 8), e(4, 11)]],
  ])('truncateFromEnd (%s)', (_name, offset, expected) => {
    const cache = threeEntries();
    cache.truncateFromEnd(offset);
    expect(cache.entries()).toEqual(expected);
  });

  it.each([
    ['shouldPreserveResetOffsetOnClearEarliestIfOneExists', 8, [e(3, 8), e(4, 11)]],
    ['shouldNotClearAnythingIfOffsetTooEarly', 1, [e(2, 6), e(3, 8), e(4, 11)]],
    ['shouldNotClearAnythingIfOffsetIsFirstOffset', 6, [e(2, 6), e(3, 8), e(4, 11)]],
    ['shouldRetainLatestEpochOnClearAllEarliest', 11, [e(4, 11)]],
    ['shouldUpdateOffsetBetweenEpochBoundariesOnClearEarliest', 9, [e(3, 9), e(4, 11)]],
    ['shouldRetainLatestEpochOnClearAllEarliestAndUpdateItsOffset', 15, [e(4, 15)]],
    ['shouldNotResetEpochHistoryHeadIfUndefinedPassed', -1, [e(2, 6), e(3, 8), e(4, 11)]],
  ])('truncateFromStart (%s)', (_name, offset, expected) => {
    const cache = threeEntries();
    cache.truncateFromStart(offset);
    expect(cache.entries()).toEqual(expected);
  });

  it('truncateFromStart between the first two boundaries (shouldUpdateOffsetBetweenFirstTwoEpochBoundariesOnClearEarliest)', () => {
    const cache = newCache();
    cache.assign(0, 0);
    cache.assign(1, 7);
    cache.assign(2, 10);
    cache.truncateFromStart(5);
    expect(cache.entries()).toEqual([e(0, 5), e(1, 7), e(2, 10)]);
  });

  it('truncations of an empty cache do nothing (shouldClearEarliestOnEmptyCache, shouldClearLatestOnEmptyCache)', () => {
    const cache = newCache();
    cache.truncateFromStart(7);
    cache.truncateFromEnd(7);
    expect(cache.entries()).toEqual([]);
  });

  it('writes the checkpoint on truncation (shouldWriteCheckpointOnTruncation)', () => {
    const rig = new DiskRig();
    const cache = threeEntries(rig);
    cache.truncateFromEnd(11);
    cache.truncateFromStart(8);
    rig.drain();
    expect(LeaderEpochFileCache.load(rig.handle, FILE).entries()).toEqual([e(3, 8)]);
  });

  it('clear empties the cache and its checkpoint (shouldClearAllEntries)', () => {
    const rig = new DiskRig();
    const cache = threeEntries(rig);
    cache.clear();
    rig.drain();
    expect(cache.entries()).toEqual([]);
    expect(cache.latestEpoch()).toBe(-1);
    expect(LeaderEpochFileCache.load(rig.handle, FILE).entries()).toEqual([]);
  });
});

describe('LeaderEpochFileCache: lookups', () => {
  it('epochForOffset (shouldFetchEpochForGivenOffset)', () => {
    const cache = newCache();
    cache.assign(0, 10);
    cache.assign(1, 20);
    cache.assign(5, 30);
    expect(cache.epochForOffset(25)).toBe(1);
    expect(cache.epochForOffset(20)).toBe(1);
    expect(cache.epochForOffset(30)).toBe(5);
    expect(cache.epochForOffset(50)).toBe(5);
    expect(cache.epochForOffset(5)).toBe(-1);
  });

  it('previousEpoch and nextEpoch (testPreviousEpoch, testFindPreviousEpoch, testFindNextEpoch)', () => {
    const cache = newCache();
    expect(cache.previousEpoch()).toBe(-1);
    expect(cache.previousEpoch(2)).toBe(-1);
    cache.assign(2, 10);
    expect(cache.previousEpoch()).toBe(-1);
    cache.assign(4, 15);
    expect(cache.previousEpoch()).toBe(2);
    expect(cache.previousEpoch(4)).toBe(2);
    cache.assign(10, 20);
    expect(cache.previousEpoch()).toBe(4);
    cache.truncateFromEnd(18);
    expect(cache.previousEpoch()).toBe(2);

    const next = newCache();
    next.assign(0, 0);
    next.assign(1, 100);
    next.assign(2, 200);
    expect([next.nextEpoch(-1), next.nextEpoch(0), next.nextEpoch(1), next.nextEpoch(2), next.nextEpoch(100)]).toEqual([0, 1, 2, -1, -1]);
    expect(next.epochEntry(1)).toEqual(e(1, 100));
    expect(next.epochEntry(3)).toBeUndefined();
  });

  it('latestEntry and latestEpoch of an empty cache (shouldFetchLatestEpochOfEmptyCache)', () => {
    expect(newCache().latestEpoch()).toBe(-1);
    expect(newCache().latestEntry()).toBeUndefined();
  });
});
