import { describe, expect, it } from 'vitest';
import { lastOffset } from '../../../src/kafka/protocol/records.js';
import type { UnifiedLog } from '../../../src/kafka/broker/log/unified-log.js';
import { TEST_CONFIG, DiskRig, clientBatch, logView, openLog } from './log-rig.js';

const SMALL_SEGMENTS = { ...TEST_CONFIG, segmentBytes: 3 * clientBatch(['v0']).sizeBytes };

/** Appends `count` one-record batches from two idempotent producers, changing leader epoch every 4. */
function fill(rig: DiskRig, log: UnifiedLog, count: number, from = 0): void {
  for (let i = from; i < from + count; i++) {
    const producerId = 1 + (i % 2);
    const result = log.appendAsLeader(clientBatch([`v${i % 10}`], { producerId, baseSequence: Math.floor(i / 2) }), Math.floor(i / 4), rig.nowMs);
    expect(result.ok).toBe(true);
  }
}

/** Reopens the log the way a restarted broker would, from the checkpoints it had. */
function reopen(rig: DiskRig, log: UnifiedLog, overrides: { recoveryPoint?: number } = {}): UnifiedLog {
  return openLog(rig, {
    config: log.config,
    recoveryPoint: overrides.recoveryPoint ?? log.recoveryPoint,
    logStartOffsetCheckpoint: log.logStartOffset,
    highWatermarkCheckpoint: log.highWatermark,
  });
}

describe('log recovery after a process crash (page cache kept)', () => {
  it.each([
    ['from the checkpointed recovery point', undefined],
    ['from offset 0 (no recovery point checkpoint)', 0],
  ])('the reloaded log equals the log before the crash, %s', (_name, recoveryPoint) => {
    const rig = new DiskRig();
    const log = openLog(rig, { config: SMALL_SEGMENTS });
    fill(rig, log, 14);
    log.truncateTo(11);
    fill(rig, log, 3, 11);
    log.maybeIncrementHighWatermark(12);
    rig.drain();
    const before = logView(log);
    rig.crash();
    const reloaded = reopen(rig, log, { recoveryPoint });
    expect(logView(reloaded)).toEqual(before);
    expect(reloaded.highWatermark).toBe(12);
    expect(reloaded.segments().map((s) => s.baseOffset)).toEqual(log.segments().map((s) => s.baseOffset));
    reloaded.checkInvariants();
  });

  it('an empty active segment still marks the end of the log (truncateFullyAndStartAt, then crash)', () => {
    const rig = new DiskRig();
    const log = openLog(rig);
    fill(rig, log, 3);
    log.truncateFullyAndStartAt(50);
    rig.drain();
    rig.crash();
    const reloaded = openLog(rig, { logStartOffsetCheckpoint: 0, recoveryPoint: 0 });
    expect([reloaded.logStartOffset, reloaded.logEndOffset]).toEqual([50, 50]);
  });

  it('a log that ends before the checkpointed log start offset starts over there', () => {
    const rig = new DiskRig();
    const log = openLog(rig);
    fill(rig, log, 3);
    rig.drain();
    rig.crash();
    const reloaded = openLog(rig, { logStartOffsetCheckpoint: 10, highWatermarkCheckpoint: 2 });
    expect([reloaded.logStartOffset, reloaded.logEndOffset, reloaded.highWatermark]).toEqual([10, 10, 10]);
    expect(reloaded.epochCache.entries()).toEqual([]);
  });

  it('a missing directory is a new empty log at the log start offset checkpoint', () => {
    const rig = new DiskRig();
    const log = openLog(rig, { logStartOffsetCheckpoint: 7, topic: 'other' });
    expect([log.logStartOffset, log.logEndOffset, log.highWatermark, log.latestEpoch()]).toEqual([7, 7, 7, -1]);
  });

  it('an unreadable segment takes the log offline', () => {
    const rig = new DiskRig();
    const log = openLog(rig);
    fill(rig, log, 2);
    rig.drain();
    rig.crash();
    rig.disk.setReadErrors(true, 't-0/00000000000000000000.log');
    const reloaded = openLog(rig);
    expect(reloaded.offline).toBe(true);
    expect(reloaded.appendAsLeader(clientBatch(['x']), 0, 0)).toEqual({ ok: false, error: 56 });
  });
});

describe('log recovery after power loss (only durable data survives)', () => {
  it('without any fsync the log comes back empty', () => {
    const rig = new DiskRig();
    const log = openLog(rig);
    fill(rig, log, 5);
    rig.drain();
    rig.powerLoss();
    const reloaded = reopen(rig, log);
    expect([reloaded.logStartOffset, reloaded.logEndOffset, reloaded.highWatermark]).toEqual([0, 0, 0]);
    // The epoch checkpoint is written atomically (durable) but recovery drops entries past the LEO.
    expect(reloaded.epochCache.entries()).toEqual([]);
    expect(reloaded.producerStateManager.isEmpty()).toBe(true);
  });

  it('keeps what the roll-triggered flushes made durable, and the producer state up to there', () => {
    const rig = new DiskRig();
    const log = openLog(rig, { config: SMALL_SEGMENTS });
    fill(rig, log, 8); // segments 0..2, 3..5, 6..7: rolls at 3 and 6 flushed everything below 6
    rig.drain();
    expect(log.recoveryPoint).toBe(6);
    const durable = log.batchesFrom(0).filter((b) => lastOffset(b) < 6);
    rig.powerLoss();
    const reloaded = reopen(rig, log);
    expect(reloaded.logEndOffset).toBe(6);
    expect(reloaded.batchesFrom(0)).toEqual(durable);
    expect(reloaded.epochCache.entries()).toEqual([{ epoch: 0, startOffset: 0 }, { epoch: 1, startOffset: 4 }]);
    expect(reloaded.producerStateManager.snapshot().producers.map((p) => [p.producerId, p.lastSequence])).toEqual([[1, 2], [2, 2]]);
    expect(reloaded.producerSnapshotOffsets()).toEqual([3, 6]);
  });

  it('keeps what background writeback made durable', () => {
    const rig = new DiskRig({ writebackExpireMs: 30_000, writebackIntervalMs: 5_000 });
    const log = openLog(rig);
    fill(rig, log, 4);
    rig.sim.runUntil(40_000_000);
    fill(rig, log, 2, 4);
    rig.sim.runUntil(41_000_000);
    rig.powerLoss();
    expect(reopen(rig, log).logEndOffset).toBe(4);
  });

  it('cuts a torn last batch (tornWrites)', () => {
    let checked = 0;
    for (let seed = 1; seed <= 40 && checked < 3; seed++) {
      const rig = new DiskRig({ tornWrites: true }, seed);
      const log = openLog(rig);
      fill(rig, log, 3);
      rig.waitFor(log.flush());
      fill(rig, log, 2, 3);
      rig.drain();
      rig.powerLoss();
      const chunks = rig.disk.cacheChunks('t-0/00000000000000000000.log');
      if (chunks.at(-1)?.torn !== true) continue;
      checked++;
      const reloaded = reopen(rig, log);
      expect(reloaded.logEndOffset).toBe(3);
      rig.drain();
      expect(rig.disk.cacheChunks('t-0/00000000000000000000.log')).toHaveLength(4); // header + 3 batches
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('truncates at the first corrupt batch and deletes every later segment', () => {
    const rig = new DiskRig();
    const log = openLog(rig, { config: SMALL_SEGMENTS });
    fill(rig, log, 9); // segments at 0, 3, 6
    rig.waitFor(log.flush());
    rig.powerLoss();
    rig.disk.corrupt('t-0/00000000000000000003.log', 2); // the batch at offset 4 (chunk 0 is the header)
    const reloaded = reopen(rig, log, { recoveryPoint: 0 });
    expect(reloaded.logEndOffset).toBe(4);
    expect(reloaded.segments().map((s) => s.baseOffset)).toEqual([0, 3]);
    expect(reloaded.epochCache.entries()).toEqual([{ epoch: 0, startOffset: 0 }]);
    rig.drain();
    expect(rig.handle.exists('t-0/00000000000000000006.log')).toBe(false);
    expect(rig.disk.cacheChunks('t-0/00000000000000000003.log')).toHaveLength(2);
    reloaded.checkInvariants();
  });

  it('with flush.messages=1 every acknowledged append survives, wherever the power fails', () => {
    let unackedSeen = false;
    for (let cut = 1; cut <= 12; cut++) {
      const rig = new DiskRig({ fsyncLatency: { distribution: 'constant', ms: 2 } }, cut);
      const log = openLog(rig, { config: { ...SMALL_SEGMENTS, flushMessages: 1 } });
      const acked: number[] = [];
      const waiting = new Map<number, number>();
      rig.route((c) => {
        log.onDiskComplete(c);
        const offset = waiting.get(c.opId);
        if (offset !== undefined) acked.push(offset);
      });
      for (let i = 0; i < 12; i++) {
        const result = log.appendAsLeader(clientBatch([`v${i}`]), 0, rig.nowMs);
        if (!result.ok) throw new Error('append failed');
        expect(result.flushOpId).toBeGreaterThan(0);
        waiting.set(result.flushOpId, result.firstOffset);
        rig.sim.runUntil(rig.sim.nowUs + 700 * ((i + cut) % 5));
      }
      expect(acked.length).toBeGreaterThan(0);
      rig.powerLoss();
      const reloaded = openLog(rig, { config: log.config });
      const survivors = reloaded.batchesFrom(0);
      for (const offset of acked) expect(survivors[offset]).toEqual(log.batchesFrom(offset)[0]);
      if (acked.length < 12) unackedSeen = true;
    }
    expect(unackedSeen).toBe(true);
  });
});
