import { describe, expect, it } from 'vitest';
import {
  HIGH_WATERMARK_CHECKPOINT_FILE,
  LOG_START_OFFSET_CHECKPOINT_FILE,
  LogManager,
  RECOVERY_POINT_CHECKPOINT_FILE,
} from '../../../src/kafka/broker/log/log-manager.js';
import { TEST_CONFIG, DiskRig, clientBatch } from './log-rig.js';

const ONE = clientBatch(['v0']).sizeBytes;
const CONFIG = { ...TEST_CONFIG, segmentBytes: 2 * ONE, retentionMs: 1_000 };

function broker(rig: DiskRig): LogManager {
  const manager = new LogManager(rig.handle, CONFIG);
  rig.route((c) => manager.onDiskComplete(c));
  return manager;
}

function produce(manager: LogManager, topic: string, partition: number, count: number, nowMs = 0): void {
  const log = manager.getOrCreateLog(topic, partition);
  for (let i = 0; i < count; i++) expect(log.appendAsLeader(clientBatch([`v${i % 10}`], { timestampMs: nowMs }), 1, nowMs).ok).toBe(true);
}

const checkpoint = (rig: DiskRig, file: string) => rig.disk.cacheChunks(file)[0]?.payload;

describe('LogManager', () => {
  it('writes the three checkpoint files with every log’s offsets', () => {
    const rig = new DiskRig();
    const manager = broker(rig);
    produce(manager, 'orders', 0, 5);
    produce(manager, 'audit-log', 3, 1);
    manager.getLog('orders-0')?.maybeIncrementHighWatermark(4);
    rig.drain(); // the roll-triggered flushes move the recovery points
    manager.checkpointRecoveryPointsAndLogStartOffsets();
    manager.checkpointHighWatermarks();
    rig.drain();
    expect(checkpoint(rig, RECOVERY_POINT_CHECKPOINT_FILE)).toEqual({ 'audit-log-3': 0, 'orders-0': 4 });
    expect(checkpoint(rig, LOG_START_OFFSET_CHECKPOINT_FILE)).toEqual({ 'audit-log-3': 0, 'orders-0': 0 });
    expect(checkpoint(rig, HIGH_WATERMARK_CHECKPOINT_FILE)).toEqual({ 'audit-log-3': 0, 'orders-0': 4 });
  });

  it('reloads every partition directory on restart, with the checkpointed (possibly stale) HW', () => {
    const rig = new DiskRig();
    const manager = broker(rig);
    produce(manager, 'orders', 0, 5);
    produce(manager, 'audit-log', 3, 1);
    manager.getLog('orders-0')?.maybeIncrementHighWatermark(3);
    manager.checkpointHighWatermarks();
    manager.getLog('orders-0')?.maybeIncrementHighWatermark(5); // not checkpointed before the crash
    rig.drain();
    rig.handle.writeAtomic('__cluster_metadata-0/00000000000000000000.log', {}, 1);
    rig.handle.writeAtomic('tools-1/notes.txt', {}, 1);
    rig.drain();
    rig.crash();

    const restarted = broker(rig);
    const logs = restarted.loadAll(rig.nowMs);
    expect(logs.map((l) => l.dir)).toEqual(['audit-log-3', 'orders-0']);
    const orders = restarted.getLog('orders-0');
    expect([orders?.logEndOffset, orders?.highWatermark]).toEqual([5, 3]);
    expect(restarted.getLog('audit-log-3')?.logEndOffset).toBe(1);
    expect(restarted.offline).toBe(false);
  });

  it('runs retention on every log, and routes flush completions to the log that issued them', () => {
    const rig = new DiskRig();
    const manager = broker(rig);
    produce(manager, 'a', 0, 5, 0);
    produce(manager, 'b', 0, 5, 0);
    for (const log of manager.allLogs()) log.maybeIncrementHighWatermark(5);
    expect(manager.cleanupLogs(10_000)).toBe(2 * 3); // segments 0, 2, 4 of each; a new one is rolled at 5
    rig.drain();
    for (const log of manager.allLogs()) {
      expect([log.logStartOffset, log.logEndOffset]).toEqual([5, 5]);
      expect(log.recoveryPoint).toBe(5);
    }
  });

  it('deletes a log and its files, even with writes still queued', () => {
    const rig = new DiskRig({ writeLatency: { distribution: 'constant', ms: 1 } });
    const manager = broker(rig);
    produce(manager, 'a', 0, 3);
    produce(manager, 'b', 0, 1);
    expect(manager.deleteLog('a-0')).toBe(true);
    expect(manager.getLog('a-0')).toBeUndefined();
    rig.drain();
    expect(rig.handle.list('a-0/')).toEqual([]);
    expect(rig.handle.list('b-0/').length).toBeGreaterThan(0);
    const recreated = manager.getOrCreateLog('a', 0);
    expect(recreated.logEndOffset).toBe(0);
  });

  it('goes offline when a checkpoint cannot be read', () => {
    const rig = new DiskRig();
    rig.handle.writeAtomic(HIGH_WATERMARK_CHECKPOINT_FILE, {}, 8);
    rig.drain();
    rig.disk.setReadErrors(true, HIGH_WATERMARK_CHECKPOINT_FILE);
    const manager = broker(rig);
    expect(manager.loadAll(0)).toEqual([]);
    expect(manager.offline).toBe(true);
  });
});
