import { describe, expect, it } from 'vitest';
import { Simulator } from '../../../src/engine/simulator.js';
import { Disk, type DiskCompletion } from '../../../src/world/disk.js';
import { RaftLog, METADATA_LOG_FILE } from '../../../src/kafka/raft/raft-log.js';

/** A disk and a RaftLog on it, with completions routed back to the log. */
function rig(options: { tornWrites?: boolean } = {}) {
  const sim = new Simulator({ seed: 1 });
  const disk = new Disk(sim, sim.rng.fork('disk'), 'd', { tornWrites: options.tornWrites ?? false, writebackExpireMs: Infinity });
  let log: RaftLog;
  const open = () => {
    log = new RaftLog(disk.handle((c: DiskCompletion) => log.handleDiskComplete(c)));
    return log;
  };
  open();
  const settle = () => sim.runUntil({ until: () => false });
  return { sim, disk, open, settle, get log() { return log; } };
}

/** Writes batches of `[epoch, count]` as a leader would. */
function write(log: RaftLog, batches: [number, number][]): void {
  for (const [epoch, count] of batches) log.appendAsLeader(Array.from({ length: count }, (_, i) => `e${epoch}-${i}`), epoch);
  log.flush();
}

describe('RaftLog: the epoch cache (endOffsetForEpoch, as LeaderEpochFileCache.endOffsetFor)', () => {
  it('the latest epoch ends at the LEO; an earlier one where the next starts; a missing one at the largest epoch below it', () => {
    const r = rig();
    write(r.log, [[1, 3], [3, 2], [5, 4]]); // epoch 1: 0-2, epoch 3: 3-4, epoch 5: 5-8
    expect(r.log.endOffsetForEpoch(5)).toEqual({ epoch: 5, offset: 9 });
    expect(r.log.endOffsetForEpoch(3)).toEqual({ epoch: 3, offset: 5 });
    expect(r.log.endOffsetForEpoch(4)).toEqual({ epoch: 3, offset: 5 });
    expect(r.log.endOffsetForEpoch(2)).toEqual({ epoch: 1, offset: 3 });
    expect(r.log.endOffsetForEpoch(0)).toEqual({ epoch: 0, offset: 0 });
    expect(r.log.lastFetchedEpoch()).toBe(5);
  });

  it('validateOffsetAndEpoch: a fetch position on the log is valid; one past an epoch’s end diverges at that end', () => {
    const r = rig();
    write(r.log, [[1, 3], [3, 2]]);
    expect(r.log.validateOffsetAndEpoch(3, 1)).toEqual({ kind: 'valid' });
    expect(r.log.validateOffsetAndEpoch(5, 3)).toEqual({ kind: 'valid' });
    expect(r.log.validateOffsetAndEpoch(4, 2)).toEqual({ kind: 'diverging', epoch: 1, endOffset: 3 });
    expect(r.log.validateOffsetAndEpoch(6, 3)).toEqual({ kind: 'diverging', epoch: 3, endOffset: 5 });
    expect(r.log.validateOffsetAndEpoch(0, 0)).toEqual({ kind: 'valid' });
  });
});

describe('RaftLog: truncation to a diverging epoch (ReplicatedLog.truncateToEndOffset)', () => {
  it('cuts at the smaller of the two end offsets of a shared epoch, and at the local end of the largest earlier epoch otherwise', () => {
    const r = rig();
    write(r.log, [[1, 3], [2, 4]]); // epoch 1: 0-2, epoch 2: 3-6
    r.settle();
    expect(r.log.truncateToEndOffset({ epoch: 2, offset: 5 })).toBe(5);
    expect(r.log.endOffset).toBe(5);
    r.log.flush();
    r.settle();
    expect(r.log.truncateToEndOffset({ epoch: 1, offset: 2 })).toBe(2);
    expect(r.log.endOffset).toBe(2);
    expect(r.log.lastFetchedEpoch()).toBe(1);
    r.log.flush();
    r.settle();
    expect(r.log.flushedOffset).toBe(2);
  });

  it('a truncation reaches the durable content with the next flush: before it, a power loss brings the cut entries back', () => {
    const r = rig();
    write(r.log, [[1, 2], [2, 2]]);
    r.settle();
    r.log.truncateTo(2);
    r.disk.powerLoss();
    expect(r.open().recover().endOffset).toBe(4);
    const again = r.log;
    again.truncateTo(2);
    again.flush();
    r.settle();
    r.disk.powerLoss();
    expect(r.open().recover().endOffset).toBe(2);
  });

  it('refuses to truncate while an append is queued (it would land after the cut)', () => {
    const r = rig();
    write(r.log, [[1, 2]]);
    expect(() => r.log.truncateTo(1)).toThrow(/pending/);
  });
});

describe('RaftLog: recovery from the disk', () => {
  it('a process crash keeps the page cache: every batch written is recovered', () => {
    const r = rig();
    r.log.appendAsLeader(['a', 'b'], 1);
    r.log.appendAsLeader(['c'], 1);
    r.settle();
    r.disk.processCrashed();
    const reopened = r.open();
    expect(reopened.recover()).toEqual({ batches: 2, endOffset: 3, droppedChunks: 0 });
    expect(reopened.entries(0).map((e) => e.record)).toEqual(['a', 'b', 'c']);
  });

  it('a power loss keeps only what was fsync’d, and recovery cuts a torn last batch off', () => {
    let sawTorn = false;
    for (let seed = 1; seed <= 20 && !sawTorn; seed++) {
      const sim = new Simulator({ seed });
      const disk = new Disk(sim, sim.rng.fork('disk'), 'd', { tornWrites: true, writebackExpireMs: Infinity });
      let log!: RaftLog;
      log = new RaftLog(disk.handle((c) => log.handleDiskComplete(c)));
      log.appendAsLeader(['a', 'b'], 1);
      log.flush();
      sim.runUntil({ until: () => false });
      log.appendAsLeader(['c', 'd', 'e'], 1);
      sim.runUntil({ until: () => false }); // landed in the page cache, never fsync'd
      disk.powerLoss();
      sawTorn = disk.cacheChunks(METADATA_LOG_FILE).some((c) => c.torn === true);
      let reopened!: RaftLog;
      reopened = new RaftLog(disk.handle((c) => reopened.handleDiskComplete(c)));
      const recovery = reopened.recover();
      expect(recovery.endOffset).toBe(2);
      expect(recovery.droppedChunks).toBe(sawTorn ? 1 : 0);
      expect(disk.cacheChunks(METADATA_LOG_FILE)).toHaveLength(1);
    }
    expect(sawTorn).toBe(true);
  });

  it('flushedOffset counts only entries whose fsync completed', () => {
    const r = rig();
    r.log.appendAsLeader(['a'], 1);
    expect(r.log.flushedOffset).toBe(0);
    r.log.flush();
    r.settle();
    expect(r.log.flushedOffset).toBe(1);
    r.log.appendAsLeader(['b'], 1);
    r.settle();
    expect(r.log.flushedOffset).toBe(1);
  });
});
