import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { lastOffset } from '../../../src/kafka/protocol/records.js';
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

/**
 * Equality with a short message: the first differing path. (A deep-equality diff of whole logs is
 * slow enough to stall shrinking.)
 */
function sameOrThrow(what: string, actual: unknown, expected: unknown): void {
  const path = firstDifference(actual, expected, '');
  if (path !== undefined) throw new Error(`${what} differs at ${path}`);
}

function firstDifference(a: unknown, b: unknown, path: string): string | undefined {
  if (Object.is(a, b)) return undefined;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return `${path || '.'}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    const diff = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`);
    if (diff !== undefined) return diff;
  }
  return undefined;
}

/** A model driver: one log on one disk, a leader epoch that only grows, producers with valid sequences. */
class Driver {
  readonly rig: DiskRig;
  log: UnifiedLog;
  private epoch = 0;
  private readonly sequences = new Map<number, number>();

  constructor(seed = 1) {
    this.rig = new DiskRig({ writeLatency: { distribution: 'constant', ms: 0.5 }, tornWrites: true }, seed);
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
    sameOrThrow('reloaded log', persistentView(after), expected);
    sameOrThrow('recovery point', after.recoveryPoint, before.recoveryPoint);
    // Producer state: what a reload keeps is a subset (Kafka forgets producers whose data is all
    // below the log start, unless a snapshot above it still has them), and equal for every
    // producer with data at or after the log start.
    for (const p of after.producerStateManager.snapshot().producers) sameOrThrow(`producer ${p.producerId}`, p, producersBefore.get(p.producerId));
    for (const p of producersBefore.values()) {
      if (p.lastOffset >= after.logStartOffset && after.producerStateManager.lastEntry(p.producerId) === undefined) {
        throw new Error(`producer ${p.producerId} (last offset ${p.lastOffset}) lost by the reload`);
      }
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
      { numRuns: LONG ? 5_000 : 400 },
    );
  });

  it('after a power loss at any moment, every batch below the recovery point comes back unchanged', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 1_000 }), (ops, seed) => {
        const driver = new Driver(seed);
        for (const op of ops) driver.apply(op);
        const before = driver.log;
        const durable = before.batchesFrom(before.logStartOffset).filter((b) => lastOffset(b) < before.recoveryPoint);
        driver.rig.powerLoss();
        const after = openLog(driver.rig, {
          config: CONFIG,
          recoveryPoint: before.recoveryPoint,
          logStartOffsetCheckpoint: before.logStartOffset,
          highWatermarkCheckpoint: before.highWatermark,
        });
        after.checkInvariants();
        const survivors = new Map(after.batchesFrom(0).map((b) => [b.baseOffset, b]));
        for (const batch of durable) {
          if (survivors.get(batch.baseOffset) !== batch) throw new Error(`durable batch at ${batch.baseOffset} lost (recovery point ${before.recoveryPoint})`);
        }
      }),
      { numRuns: LONG ? 5_000 : 400 },
    );
  });
});
