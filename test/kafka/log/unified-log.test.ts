import { describe, expect, it } from 'vitest';
import { Errors } from '../../../src/kafka/protocol/errors.js';
import { lastOffset, type RecordBatch } from '../../../src/kafka/protocol/records.js';
import { SEGMENT_FILE_HEADER } from '../../../src/kafka/broker/log/log-segment.js';
import { TEST_CONFIG, DiskRig, clientBatch, openLog, storedBatch } from './log-rig.js';

/** Size of a one-record batch with a 2-character value (61 + 8 + 2). */
const ONE = clientBatch(['v0']).sizeBytes;

function leaderWith(counts: readonly number[], config = TEST_CONFIG, epoch = 0) {
  const rig = new DiskRig();
  const log = openLog(rig, { config });
  let n = 0;
  for (const count of counts) {
    const values = Array.from({ length: count }, () => `v${n++ % 10}`);
    const result = log.appendAsLeader(clientBatch(values), epoch, rig.nowMs);
    expect(result.ok).toBe(true);
  }
  return { rig, log };
}

const chunkPayloads = (rig: DiskRig, file: string) => rig.disk.cacheChunks(file).map((c) => c.payload);

describe('UnifiedLog: leader append', () => {
  it('assigns consecutive offsets, stamps the leader epoch and records each new epoch in the cache', () => {
    const rig = new DiskRig();
    const log = openLog(rig);
    const r1 = log.appendAsLeader(clientBatch(['a', 'b', 'c']), 3, 0);
    const r2 = log.appendAsLeader(clientBatch(['d']), 3, 0);
    const r3 = log.appendAsLeader(clientBatch(['e', 'f']), 5, 0);
    expect([r1, r2, r3].map((r) => (r.ok ? [r.firstOffset, r.lastOffset, r.duplicate, r.flushOpId] : r.error))).toEqual([
      [0, 2, false, -1],
      [3, 3, false, -1],
      [4, 5, false, -1],
    ]);
    expect(log.logEndOffset).toBe(6);
    expect(log.batchesFrom(0).map((b) => [b.baseOffset, b.partitionLeaderEpoch])).toEqual([[0, 3], [3, 3], [4, 5]]);
    expect(log.epochCache.entries()).toEqual([{ epoch: 3, startOffset: 0 }, { epoch: 5, startOffset: 4 }]);
    rig.drain();
    expect(chunkPayloads(rig, 't-0/00000000000000000000.log')).toEqual([SEGMENT_FILE_HEADER, ...log.batchesFrom(0)]);
    log.checkInvariants();
  });

  it('answers a retried idempotent batch with its original offsets and writes nothing', () => {
    const rig = new DiskRig();
    const log = openLog(rig);
    const batch = clientBatch(['a', 'b'], { producerId: 7, baseSequence: 0 });
    log.appendAsLeader(batch, 0, 0);
    log.appendAsLeader(clientBatch(['c'], { producerId: 7, baseSequence: 2 }), 0, 0);
    const retry = log.appendAsLeader(batch, 0, 0);
    expect(retry).toMatchObject({ ok: true, firstOffset: 0, lastOffset: 1, duplicate: true });
    expect(log.logEndOffset).toBe(3);
  });

  it('assigns the epoch before producer validation, as Kafka does: a duplicate from a new leader still opens its epoch', () => {
    const rig = new DiskRig();
    const log = openLog(rig);
    const batch = clientBatch(['a'], { producerId: 7, baseSequence: 0 });
    log.appendAsLeader(batch, 0, 0);
    expect(log.appendAsLeader(batch, 1, 0)).toMatchObject({ ok: true, duplicate: true, firstOffset: 0 });
    expect(log.epochCache.entries()).toEqual([{ epoch: 0, startOffset: 0 }, { epoch: 1, startOffset: 1 }]);
  });

  it('rejects out-of-order sequences, fenced epochs, oversized and corrupt batches', () => {
    const rig = new DiskRig();
    const log = openLog(rig, { config: { ...TEST_CONFIG, maxMessageBytes: 200 } });
    log.appendAsLeader(clientBatch(['a'], { producerId: 7, producerEpoch: 2, baseSequence: 0 }), 0, 0);
    expect(log.appendAsLeader(clientBatch(['b'], { producerId: 7, producerEpoch: 2, baseSequence: 5 }), 0, 0)).toEqual({ ok: false, error: Errors.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(log.appendAsLeader(clientBatch(['b'], { producerId: 7, producerEpoch: 1, baseSequence: 1 }), 0, 0)).toEqual({ ok: false, error: Errors.INVALID_PRODUCER_EPOCH });
    expect(log.appendAsLeader(clientBatch(['x'.repeat(200)]), 0, 0)).toEqual({ ok: false, error: Errors.MESSAGE_TOO_LARGE });
    const corrupt = { ...clientBatch(['y']), crc: 1 };
    expect(log.appendAsLeader(corrupt, 0, 0)).toEqual({ ok: false, error: Errors.CORRUPT_MESSAGE });
    expect(log.logEndOffset).toBe(1);
  });
});

describe('UnifiedLog: rolling segments (LogSegment.shouldRoll)', () => {
  it('rolls when size > segment.bytes - incoming (strict), naming files by base offset', () => {
    const exact = leaderWith([1, 1, 1, 1, 1], { ...TEST_CONFIG, segmentBytes: 2 * ONE });
    expect(exact.log.segments().map((s) => [s.baseOffset, s.batchCount])).toEqual([[0, 2], [2, 2], [4, 1]]);
    const tight = leaderWith([1, 1, 1], { ...TEST_CONFIG, segmentBytes: 2 * ONE - 1 });
    expect(tight.log.segments().map((s) => [s.baseOffset, s.batchCount])).toEqual([[0, 1], [1, 1], [2, 1]]);
    exact.rig.drain();
    expect(exact.rig.handle.list('t-0/')).toEqual([
      't-0/00000000000000000000.log',
      't-0/00000000000000000002.log',
      't-0/00000000000000000002.snapshot',
      't-0/00000000000000000004.log',
      't-0/00000000000000000004.snapshot',
      't-0/leader-epoch-checkpoint',
    ]);
  });

  it('rolls on record timestamps: when the incoming batch is more than segment.ms after the first batch', () => {
    const rig = new DiskRig();
    const log = openLog(rig, { config: { ...TEST_CONFIG, segmentMs: 1000 } });
    log.appendAsLeader(clientBatch(['a'], { timestampMs: 5_000 }), 0, 0);
    log.appendAsLeader(clientBatch(['b'], { timestampMs: 6_000 }), 0, 0);
    expect(log.segments()).toHaveLength(1);
    log.appendAsLeader(clientBatch(['c'], { timestampMs: 6_001 }), 0, 0);
    expect(log.segments().map((s) => s.baseOffset)).toEqual([0, 2]);
  });

  it('flushes older segments on roll, which moves the recovery point once the fsync completes', () => {
    const { rig, log } = leaderWith([1, 1, 1], { ...TEST_CONFIG, segmentBytes: 2 * ONE });
    expect(log.recoveryPoint).toBe(0);
    rig.drain();
    expect(log.recoveryPoint).toBe(2);
    expect(rig.disk.durableChunks('t-0/00000000000000000000.log')).toHaveLength(3);
    expect(rig.disk.durableChunks('t-0/00000000000000000002.log')).toHaveLength(0);
  });
});

describe('UnifiedLog: follower append', () => {
  it('keeps the leader’s offsets and epochs and fills the epoch cache', () => {
    const rig = new DiskRig();
    const log = openLog(rig);
    const result = log.appendAsFollower([storedBatch(0, 1, 2), storedBatch(2, 1, 1), storedBatch(3, 4, 2)]);
    expect(result).toEqual({ ok: true, lastOffset: 4, lastEpoch: 4, flushOpId: -1 });
    expect(log.logEndOffset).toBe(5);
    expect(log.epochCache.entries()).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 4, startOffset: 3 }]);
  });

  it('refuses batches that do not start at the LEO, reporting their range, and writes nothing', () => {
    const rig = new DiskRig();
    const log = openLog(rig);
    log.appendAsFollower([storedBatch(0, 1, 3)]);
    expect(log.appendAsFollower([storedBatch(1, 1, 4)])).toEqual({
      ok: false,
      error: Errors.UNKNOWN_SERVER_ERROR,
      unexpectedAppendOffset: { firstOffset: 1, lastOffset: 4 },
    });
    expect(log.appendAsFollower([storedBatch(3, 1, 1), storedBatch(5, 1, 1)])).toMatchObject({ ok: false, error: Errors.UNKNOWN_SERVER_ERROR });
    expect(log.logEndOffset).toBe(3);
  });

  it('rebuilds producer state without validating, so a new leader recognises retries it replicated', () => {
    const rig = new DiskRig();
    const log = openLog(rig);
    log.appendAsFollower([storedBatch(0, 1, 2, { producerId: 7, baseSequence: 10 })]);
    const retry = clientBatch(['x', 'y'], { producerId: 7, baseSequence: 10 });
    expect(log.appendAsLeader(retry, 2, 0)).toMatchObject({ ok: true, duplicate: true, firstOffset: 0, lastOffset: 1 });
  });
});

describe('UnifiedLog: truncateTo', () => {
  function divergentFollower() {
    const rig = new DiskRig();
    const log = openLog(rig, { config: { ...TEST_CONFIG, segmentBytes: 3 * ONE } });
    // Epoch 1 at 0..3, epoch 2 at 4..7, one record per batch, three batches per segment.
    const batches: RecordBatch[] = [];
    for (let o = 0; o < 8; o++) batches.push(storedBatch(o, o < 4 ? 1 : 2, 1, { producerId: 7, baseSequence: o }));
    for (const batch of batches) log.appendAsFollower([batch]);
    log.updateHighWatermark(8);
    return { rig, log };
  }

  it('drops batches from the offset on, deletes later segments, truncates the epoch cache and clamps the HW', () => {
    const { rig, log } = divergentFollower();
    expect(log.segments().map((s) => s.baseOffset)).toEqual([0, 3, 6]);
    expect(log.truncateTo(4)).toBe(true);
    expect(log.logEndOffset).toBe(4);
    expect(log.highWatermark).toBe(4);
    expect(log.segments().map((s) => s.baseOffset)).toEqual([0, 3]);
    expect(log.epochCache.entries()).toEqual([{ epoch: 1, startOffset: 0 }]);
    expect(log.producerStateManager.lastEntry(7)?.batches.at(-1)).toMatchObject({ lastSeq: 3, lastOffset: 3 });
    rig.drain();
    expect(rig.handle.exists('t-0/00000000000000000006.log')).toBe(false);
    expect(rig.disk.cacheChunks('t-0/00000000000000000003.log')).toHaveLength(2);
    expect(log.producerSnapshotOffsets().every((o) => o <= 4)).toBe(true);
    log.checkInvariants();
  });

  it('removes a whole batch that straddles the offset, leaving the LEO at the batch boundary', () => {
    const rig = new DiskRig();
    const log = openLog(rig);
    log.appendAsFollower([storedBatch(0, 1, 5), storedBatch(5, 1, 5)]);
    expect(log.truncateTo(7)).toBe(true);
    expect(log.logEndOffset).toBe(5);
  });

  it('at or past the LEO removes no data, but drops an epoch assigned at the LEO and never written in', () => {
    const { log } = divergentFollower();
    log.assignEpochStartOffset(3, 8);
    expect(log.latestEpoch()).toBe(3);
    expect(log.truncateTo(8)).toBe(false);
    expect(log.logEndOffset).toBe(8);
    expect(log.latestEpoch()).toBe(2);
  });

  it('below the first segment truncates fully and starts there', () => {
    const rig = new DiskRig();
    const log = openLog(rig, { logStartOffsetCheckpoint: 10 });
    log.appendAsFollower([storedBatch(10, 1, 2)]);
    expect(log.truncateTo(4)).toBe(true);
    expect([log.logStartOffset, log.logEndOffset, log.highWatermark]).toEqual([4, 4, 4]);
    expect(log.epochCache.entries()).toEqual([]);
  });

  it('truncateFullyAndStartAt empties the log at a new offset', () => {
    const { rig, log } = divergentFollower();
    log.truncateFullyAndStartAt(100);
    expect([log.logStartOffset, log.logEndOffset, log.highWatermark, log.recoveryPoint]).toEqual([100, 100, 100, 100]);
    expect(log.segments().map((s) => s.baseOffset)).toEqual([100]);
    expect(log.producerStateManager.isEmpty()).toBe(true);
    rig.drain();
    expect(rig.handle.list('t-0/').filter((f) => f.endsWith('.log'))).toEqual(['t-0/00000000000000000100.log']);
  });

  it('keeps the file right when it truncates while its writes are still queued', () => {
    const rig = new DiskRig({ writeLatency: { distribution: 'constant', ms: 1 } });
    const log = openLog(rig);
    for (let o = 0; o < 6; o++) log.appendAsFollower([storedBatch(o, 1, 1)]);
    rig.sim.runUntil(2_500); // two of the six appends have landed
    log.truncateTo(3);
    log.appendAsFollower([storedBatch(3, 2, 1), storedBatch(4, 2, 1)]);
    rig.drain();
    expect(chunkPayloads(rig, 't-0/00000000000000000000.log')).toEqual([SEGMENT_FILE_HEADER, ...log.batchesFrom(0)]);
    expect(log.batchesFrom(0).map((b) => b.partitionLeaderEpoch)).toEqual([1, 1, 1, 2, 2]);
  });
});

describe('UnifiedLog: read', () => {
  const setup = () => {
    const { rig, log } = leaderWith([2, 2, 2, 2], { ...TEST_CONFIG, segmentBytes: 1_000_000 });
    log.maybeIncrementHighWatermark(5);
    return { rig, log };
  };
  const offsets = (r: ReturnType<ReturnType<typeof setup>['log']['read']>) => (r.ok ? r.batches.map((b) => [b.baseOffset, lastOffset(b)]) : r.error);

  it('answers OFFSET_OUT_OF_RANGE outside [log start, LEO]', () => {
    const { log } = setup();
    expect(offsets(log.read(9, 8, 1_000_000))).toBe(Errors.OFFSET_OUT_OF_RANGE);
    log.maybeIncrementLogStartOffset(2);
    expect(offsets(log.read(1, 8, 1_000_000))).toBe(Errors.OFFSET_OUT_OF_RANGE);
  });

  it('returns nothing at or past the max offset (HW < start ≤ LEO is empty, not an error)', () => {
    const { log } = setup();
    expect(offsets(log.read(5, 5, 1_000_000))).toEqual([]);
    expect(offsets(log.read(7, 5, 1_000_000))).toEqual([]);
    expect(offsets(log.read(8, 8, 1_000_000))).toEqual([]);
  });

  it('returns whole batches from the one containing the start offset, never one that reaches the max offset', () => {
    const { log } = setup();
    expect(offsets(log.read(3, 5, 1_000_000))).toEqual([[2, 3]]); // batch 4..5 straddles the HW (5)
    expect(offsets(log.read(0, 8, 1_000_000))).toEqual([[0, 1], [2, 3], [4, 5], [6, 7]]);
  });

  it('respects maxBytes but always returns the first batch', () => {
    const { log } = setup();
    const size = log.batchesFrom(0)[0].sizeBytes;
    expect(offsets(log.read(0, 8, 1))).toEqual([[0, 1]]);
    expect(offsets(log.read(0, 8, 2 * size))).toEqual([[0, 1], [2, 3]]);
    expect(offsets(log.read(0, 8, 1, false))).toEqual([]);
  });

  it('reads from one segment at a time, as LocalLog.read does', () => {
    const { log } = leaderWith([1, 1, 1, 1], { ...TEST_CONFIG, segmentBytes: 2 * ONE });
    expect(offsets(log.read(0, 4, 1_000_000))).toEqual([[0, 0], [1, 1]]);
    expect(offsets(log.read(2, 4, 1_000_000))).toEqual([[2, 2], [3, 3]]);
  });
});

describe('UnifiedLog: high watermark and log start offset', () => {
  it('the follower rule clamps to [log start, LEO] and may go down; the leader rule only goes up', () => {
    const { log } = leaderWith([5]);
    expect(log.updateHighWatermark(9)).toBe(5);
    expect(log.updateHighWatermark(2)).toBe(2);
    expect(log.maybeIncrementHighWatermark(1)).toBe(false);
    expect(log.maybeIncrementHighWatermark(4)).toBe(true);
    expect(log.highWatermark).toBe(4);
    expect(() => log.maybeIncrementHighWatermark(6)).toThrow(/above the log end offset/);
    log.maybeIncrementLogStartOffset(3);
    expect(log.updateHighWatermark(0)).toBe(3);
  });

  it('a follower applies the leader’s log start offset only up to its HW', () => {
    const { log } = leaderWith([5]);
    log.updateHighWatermark(3);
    expect(log.maybeIncrementLogStartOffset(4)).toBe(Errors.OFFSET_OUT_OF_RANGE);
    expect(log.maybeIncrementLogStartOffset(2)).toBe(Errors.NONE);
    expect(log.maybeIncrementLogStartOffset(1)).toBe(Errors.NONE);
    expect(log.logStartOffset).toBe(2);
  });
});

describe('UnifiedLog: retention (deleteOldSegments)', () => {
  function segmentedLog(config: Partial<typeof TEST_CONFIG>) {
    const rig = new DiskRig();
    const log = openLog(rig, { config: { ...TEST_CONFIG, segmentBytes: 2 * ONE, ...config } });
    // Two one-record batches per segment; record timestamps 0, 1000, 2000, ...
    for (let o = 0; o < 7; o++) log.appendAsLeader(clientBatch([`v${o}`], { timestampMs: o * 1000 }), o < 4 ? 1 : 2, o * 1000);
    return { rig, log };
  }

  it('by time deletes only whole segments below the HW, and advances the log start offset', () => {
    const { rig, log } = segmentedLog({ retentionMs: 2500 });
    expect(log.segments().map((s) => s.baseOffset)).toEqual([0, 2, 4, 6]);
    log.maybeIncrementHighWatermark(3);
    expect(log.deleteOldSegments(10_000)).toBe(1); // segment 2..3 is old enough but not entirely below the HW
    expect(log.logStartOffset).toBe(2);
    log.maybeIncrementHighWatermark(7);
    expect(log.deleteOldSegments(10_000)).toBe(3);
    expect(log.segments().map((s) => s.baseOffset)).toEqual([7]); // everything went, so a new segment was rolled first
    expect([log.logStartOffset, log.logEndOffset]).toEqual([7, 7]);
    expect(log.epochCache.entries()).toEqual([{ epoch: 2, startOffset: 7 }]);
    rig.drain();
    expect(rig.handle.list('t-0/').filter((f) => f.endsWith('.log'))).toEqual(['t-0/00000000000000000007.log']);
    expect(log.read(6, 7, 1000)).toEqual({ ok: false, error: Errors.OFFSET_OUT_OF_RANGE });
    log.checkInvariants();
  });

  it('by time keeps segments whose newest record is within retention.ms', () => {
    const { log } = segmentedLog({ retentionMs: 2500 });
    log.maybeIncrementHighWatermark(7);
    expect(log.deleteOldSegments(5_000)).toBe(1); // 5000 - 1000 > 2500; 5000 - 3000 is not
    expect(log.logStartOffset).toBe(2);
  });

  it('by size deletes oldest segments while the excess covers them', () => {
    const { log } = segmentedLog({ retentionMs: -1, retentionBytes: 3 * ONE });
    log.maybeIncrementHighWatermark(5);
    // 7 batches, 4 over the limit: segments 0..1 and 2..3 go; 4..5 would too but is not below the HW.
    expect(log.deleteOldSegments(0)).toBe(2);
    expect(log.logStartOffset).toBe(4);
  });

  it('by log start offset deletes segments entirely below it', () => {
    const { log } = segmentedLog({ retentionMs: -1 });
    log.maybeIncrementHighWatermark(7);
    log.maybeIncrementLogStartOffset(5);
    expect(log.deleteOldSegments(0)).toBe(2);
    expect(log.segments().map((s) => s.baseOffset)).toEqual([4, 6]);
    expect(log.logStartOffset).toBe(5);
  });
});

describe('UnifiedLog: flush', () => {
  it('flush.messages=1 fsyncs on every append and reports the op to wait for', () => {
    const rig = new DiskRig();
    const log = openLog(rig, { config: { ...TEST_CONFIG, flushMessages: 1 } });
    const result = log.appendAsLeader(clientBatch(['a']), 0, 0);
    expect(result.ok && result.flushOpId).toBeGreaterThan(0);
    expect(log.recoveryPoint).toBe(0);
    if (result.ok) rig.waitFor(result.flushOpId);
    expect(log.recoveryPoint).toBe(1);
  });

  it('flush.messages=3 fsyncs every third message', () => {
    const rig = new DiskRig();
    const log = openLog(rig, { config: { ...TEST_CONFIG, flushMessages: 3 } });
    const ids = [1, 2, 3, 4, 5, 6].map(() => {
      const r = log.appendAsLeader(clientBatch(['a']), 0, 0);
      return r.ok ? r.flushOpId : -2;
    });
    expect(ids.map((id) => id > 0)).toEqual([false, false, true, false, false, true]);
    rig.drain();
    expect(log.recoveryPoint).toBe(6);
    expect(log.flush()).toBe(-1);
  });
});
