import { Simulator } from '../../../src/engine/simulator.js';
import { MAX_TIME_US } from '../../../src/engine/time.js';
import { Disk, type DiskCompletion, type DiskConfig, type DiskHandle } from '../../../src/world/disk.js';
import { makeBatch, NO_PARTITION_LEADER_EPOCH, type RecordBatch } from '../../../src/kafka/protocol/records.js';
import { DEFAULT_LOG_CONFIG, type LogConfig } from '../../../src/kafka/broker/log/log-config.js';
import { UnifiedLog, type UnifiedLogLoadOptions } from '../../../src/kafka/broker/log/unified-log.js';

/**
 * A simulated disk for log tests, with a live handle for the current process incarnation. Disk
 * completions go to whatever `route` last installed (a log, a log manager). Background writeback
 * is off unless asked for, so durability comes from fsync and atomic writes alone.
 */
export class DiskRig {
  readonly sim: Simulator;
  readonly disk: Disk;
  handle: DiskHandle;
  private sink: (completion: DiskCompletion) => void = () => {};

  constructor(config: Partial<DiskConfig> = {}, seed: number | string = 1) {
    this.sim = new Simulator({ seed });
    this.disk = new Disk(this.sim, this.sim.rng.fork('disk:d0'), 'd0', { writebackExpireMs: Infinity, ...config });
    this.handle = this.open();
  }

  route(sink: (completion: DiskCompletion) => void): void {
    this.sink = sink;
  }

  /** Runs until every queued disk op has completed (writeback is off, so nothing else is pending). */
  drain(): void {
    this.sim.runUntil(MAX_TIME_US);
  }

  /** Runs until the op completes. */
  waitFor(opId: number): void {
    let done = false;
    const previous = this.sink;
    this.sink = (c) => {
      previous(c);
      if (c.opId === opId) done = true;
    };
    this.sim.runUntil(() => done);
    this.sink = previous;
    if (!done) throw new Error(`op ${opId} never completed`);
  }

  get nowMs(): number {
    return this.sim.nowUs / 1000;
  }

  /** kill -9: queued ops are lost, the page cache stays; a new handle for the next incarnation. */
  crash(): void {
    this.disk.processCrashed();
    this.handle = this.open();
    this.sink = () => {};
  }

  /** Power loss: only durable content stays. */
  powerLoss(): void {
    this.disk.powerLoss();
    this.handle = this.open();
    this.sink = () => {};
  }

  private open(): DiskHandle {
    return this.disk.handle((c) => this.sink(c));
  }
}

export const TEST_CONFIG: LogConfig = { ...DEFAULT_LOG_CONFIG };

export function openLog(rig: DiskRig, overrides: Partial<UnifiedLogLoadOptions> = {}): UnifiedLog {
  const log = UnifiedLog.load({
    disk: rig.handle,
    topic: 't',
    partition: 0,
    config: TEST_CONFIG,
    nowMs: rig.nowMs,
    recoveryPoint: 0,
    logStartOffsetCheckpoint: 0,
    highWatermarkCheckpoint: 0,
    ...overrides,
  });
  rig.route((c) => log.onDiskComplete(c));
  return log;
}

export interface BatchOptions {
  readonly producerId?: number;
  readonly producerEpoch?: number;
  readonly baseSequence?: number;
  readonly timestampMs?: number;
}

/** A batch as a client sends it: offset 0, no leader epoch; idempotent if a producer id is given. */
export function clientBatch(values: readonly string[], options: BatchOptions = {}): RecordBatch {
  const idempotent = options.producerId !== undefined;
  return makeBatch({
    baseOffset: 0,
    partitionLeaderEpoch: NO_PARTITION_LEADER_EPOCH,
    producerId: options.producerId ?? -1,
    producerEpoch: idempotent ? (options.producerEpoch ?? 0) : -1,
    baseSequence: idempotent ? (options.baseSequence ?? 0) : -1,
    records: values.map((value) => ({ key: null, value, timestampMs: options.timestampMs ?? 0 })),
  });
}

/** A batch as a leader stored it (for follower appends and producer-state tests). */
export function storedBatch(baseOffset: number, epoch: number, count: number, options: BatchOptions = {}): RecordBatch {
  const idempotent = options.producerId !== undefined;
  return makeBatch({
    baseOffset,
    partitionLeaderEpoch: epoch,
    producerId: options.producerId ?? -1,
    producerEpoch: idempotent ? (options.producerEpoch ?? 0) : -1,
    baseSequence: idempotent ? (options.baseSequence ?? 0) : -1,
    records: Array.from({ length: count }, (_, i) => ({ key: null, value: `v${baseOffset + i}`, timestampMs: options.timestampMs ?? 0 })),
  });
}

/** What a log holds, as plain values: for comparing a log with its reloaded self. */
export function logView(log: UnifiedLog) {
  return {
    logStartOffset: log.logStartOffset,
    logEndOffset: log.logEndOffset,
    batches: log.batchesFrom(0).map((b) => ({ baseOffset: b.baseOffset, epoch: b.partitionLeaderEpoch, crc: b.crc })),
    epochs: log.epochCache.entries(),
    producers: log.producerStateManager.snapshot().producers,
  };
}
