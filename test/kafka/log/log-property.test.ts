import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { UnifiedLog } from '../../../src/kafka/broker/log/unified-log.js';
import { TEST_CONFIG, DiskRig, clientBatch, openLog, storedBatch } from './log-rig.js';

const ONE = clientBatch(['v0']).sizeBytes;
const CONFIG = { ...TEST_CONFIG, segmentBytes: 4 * ONE, retentionMs: -1, retentionBytes: 8 * ONE };
const LONG = process.env.KAFKAESQUE_LONG === '1';

type Op =
  | { readonly kind: 'leader-append'; readonly producer: number; readonly count: number }
  | { readonly kind: 'follower-append'; readonly producer: number; readonly count: number; readonly batches: number }
  | { readonly kind: 'new-epoch' }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'high-watermark'; readonly at: number }
  | { readonly kind: 'retention' }
  | { readonly kind: 'flush' }
  | { readonly kind: 'advance'; readonly us: number }
  | { readonly kind: 'crash-reload' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('leader-append' as const), producer: fc.integer({ min: 0, max: 2 }), count: fc.integer({ min: 1, max: 3 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('follower-append' as const),
      producer: fc.integer({ min: 0, max: 2 }),
      count: fc.integer({ min: 1, max: 3 }),
      batches: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'new-epoch' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('high-watermark' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'retention' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'flush' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), us: fc.integer({ min: 0, max: 3_000 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'crash-reload' as const }) },
);

/** What must survive a process crash, as Kafka's recovery reports it (see the comparisons below). */
function persistentView(log: UnifiedLog) {
  return {
    logStartOffset: log.logStartOffset,
    logEndOffset: log.logEndOffset,
    highWatermark: log.highWatermark,
    segments: log.segments().map((s) => s.baseOffset),
    batches: log.batchesFrom(0),
    // Recovery drops epoch entries at or past the LEO (an epoch assigned and never written in).
    epochs: log.epochCache.entries().filter((e) => e.startOffset < log.logEndOffset),
  };
}

/** A model driver: one log on one disk, a leader epoch that only grows, producers with valid sequences. */
class Driver {
  readonly rig = new DiskRig({ writeLatency: { distribution: 'constant', ms: 0.5 } });
  log: UnifiedLog;
  private epoch = 0;
  private readonly sequences = new Map<number, number>();

  constructor() {
    this.log = openLog(this.rig, { config: CONFIG });
  }

  apply(op: Op): void {
    const log = this.log;
    const now = this.rig.nowMs;
    switch (op.kind) {
      case 'leader-append': {
        const producerId = op.producer === 0 ? undefined : op.producer;
        const baseSequence = producerId === undefined ? undefined : this.nextSequence(producerId, op.count);
        const values = Array.from({ length: op.count }, (_, i) => `v${i}`);
        const result = log.appendAsLeader(clientBatch(values, { producerId, baseSequence }), this.epoch, now);
        expect(result.ok).toBe(true);
        break;
      }
      case 'follower-append': {
        const batches = [];
        let offset = log.logEndOffset;
        for (let b = 0; b < op.batches; b++) {
          const producerId = op.producer === 0 ? undefined : op.producer;
          const baseSequence = producerId === undefined ? undefined : this.nextSequence(producerId, op.count);
          batches.push(storedBatch(offset, this.epoch, op.count, { producerId, baseSequence }));
          offset += op.count;
        }
        expect(log.appendAsFollower(batches, now).ok).toBe(true);
        break;
      }
      case 'new-epoch':
        this.epoch++;
        log.assignEpochStartOffset(this.epoch, log.logEndOffset);
        break;
      case 'truncate':
        log.truncateTo(op.at % (log.logEndOffset + 2));
        // A rebuilt producer state may have forgotten sequences; producers restart their epoch's count.
        this.sequences.clear();
        break;
      case 'high-watermark':
        log.updateHighWatermark(op.at % (log.logEndOffset + 1));
        break;
      case 'retention':
        log.deleteOldSegments(now);
        break;
      case 'flush':
        log.flush();
        break;
      case 'advance':
        this.rig.sim.runUntil(this.rig.sim.nowUs + op.us);
        break;
      case 'crash-reload':
        this.crashAndReload();
        break;
    }
    this.log.checkInvariants();
    expect(this.log.logStartOffset).toBeLessThanOrEqual(this.log.highWatermark);
    expect(this.log.highWatermark).toBeLessThanOrEqual(this.log.logEndOffset);
  }

  /** Waits for the disk queue (a crash discards it), then kill -9 and reload from the checkpoints. */
  crashAndReload(): void {
    const before = this.log;
    this.rig.drain();
    const expected = persistentView(before);
    const producersBefore = new Map(before.producerStateManager.snapshot().producers.map((p) => [p.producerId, p]));
    this.rig.crash();
    const after = openLog(this.rig, {
      config: CONFIG,
      recoveryPoint: before.recoveryPoint,
      logStartOffsetCheckpoint: before.logStartOffset,
      highWatermarkCheckpoint: before.highWatermark,
    });
    expect(persistentView(after)).toEqual(expected);
    expect(after.recoveryPoint).toBe(before.recoveryPoint);
    // Producer state: what a reload keeps is a subset (Kafka forgets producers whose data is all
    // below the log start, unless a snapshot above it still has them), and equal for every
    // producer with data at or after the log start.
    for (const p of after.producerStateManager.snapshot().producers) expect(producersBefore.get(p.producerId)).toEqual(p);
    for (const p of producersBefore.values()) {
      if (p.lastOffset >= after.logStartOffset) expect(after.producerStateManager.lastEntry(p.producerId)).toBeDefined();
    }
    this.log = after;
    // Producers whose state a reload may have dropped start afresh; their sequences are accepted (KIP-360).
    this.sequences.clear();
  }

  private nextSequence(producerId: number, count: number): number {
    const entry = this.log.producerStateManager.lastEntry(producerId);
    const last = entry?.batches.at(-1);
    const next = last === undefined ? (this.sequences.get(producerId) ?? 0) : last.lastSeq + 1;
    this.sequences.set(producerId, next + count);
    return next;
  }
}

describe('UnifiedLog (property): random appends, truncations, rolls, retention and crash-reloads', () => {
  it('a log reloaded after a process crash equals the log before it; log start ≤ HW ≤ LEO always', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (ops) => {
        const driver = new Driver();
        for (const op of ops) driver.apply(op);
        driver.crashAndReload();
      }),
      { numRuns: LONG ? 2_000 : 150 },
    );
  });
});
