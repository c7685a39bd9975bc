import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Errors } from '../../../src/kafka/protocol/errors.js';
import { nextOffset, type RecordBatch } from '../../../src/kafka/protocol/records.js';
import { NUM_BATCHES_TO_RETAIN, ProducerStateManager } from '../../../src/kafka/broker/log/producer-state.js';
import { clientBatch, storedBatch } from './log-rig.js';

const OK = { kind: 'ok' };
const OUT_OF_ORDER = { kind: 'error', error: Errors.OUT_OF_ORDER_SEQUENCE_NUMBER };
const INVALID_EPOCH = { kind: 'error', error: Errors.INVALID_PRODUCER_EPOCH };

/** A manager that has seen `counts` batches of producer 1 (epoch 0), each starting where the last ended. */
function withBatches(counts: readonly number[], producerEpoch = 0): { psm: ProducerStateManager; batches: RecordBatch[] } {
  const psm = new ProducerStateManager();
  const batches: RecordBatch[] = [];
  let offset = 0;
  let sequence = 0;
  for (const count of counts) {
    const batch = storedBatch(offset, 0, count, { producerId: 1, producerEpoch, baseSequence: sequence });
    psm.update(batch);
    batches.push(batch);
    offset += count;
    sequence += count;
  }
  return { psm, batches };
}

const retry = (count: number, baseSequence: number, producerEpoch = 0) =>
  clientBatch(Array.from({ length: count }, (_, i) => `r${i}`), { producerId: 1, producerEpoch, baseSequence });

describe('ProducerStateManager: duplicates (ProducerStateEntry.findDuplicateBatch)', () => {
  it('a retried batch is a duplicate with its original offsets', () => {
    const { psm } = withBatches([3, 2]);
    expect(psm.checkClientAppend(retry(3, 0))).toEqual({ kind: 'duplicate', firstOffset: 0, lastOffset: 2 });
    expect(psm.checkClientAppend(retry(2, 3))).toEqual({ kind: 'duplicate', firstOffset: 3, lastOffset: 4 });
  });

  it('only an exact sequence range matches: an overlapping batch is out of order', () => {
    const { psm } = withBatches([3, 2]);
    expect(psm.checkClientAppend(retry(2, 0))).toEqual(OUT_OF_ORDER);
  });

  it(`a retry older than the last ${NUM_BATCHES_TO_RETAIN} batches is OUT_OF_ORDER_SEQUENCE_NUMBER, not a duplicate`, () => {
    const { psm } = withBatches([1, 1, 1, 1, 1, 1]);
    expect(psm.lastEntry(1)?.batches).toHaveLength(NUM_BATCHES_TO_RETAIN);
    expect(psm.checkClientAppend(retry(1, 0))).toEqual(OUT_OF_ORDER);
    expect(psm.checkClientAppend(retry(1, 1))).toEqual({ kind: 'duplicate', firstOffset: 1, lastOffset: 1 });
  });

  it('a batch of another epoch is never a duplicate', () => {
    const { psm } = withBatches([3]);
    expect(psm.checkClientAppend(retry(3, 0, 1))).toEqual(OK);
  });
});

describe('ProducerStateManager: sequence and epoch checks (ProducerAppendInfo.checkSequence)', () => {
  it('accepts the next sequence and rejects a gap', () => {
    const { psm } = withBatches([3]);
    expect(psm.checkClientAppend(retry(1, 3))).toEqual(OK);
    expect(psm.checkClientAppend(retry(1, 5))).toEqual(OUT_OF_ORDER);
  });

  it('an unknown producer may start at any sequence (KIP-360: no UNKNOWN_PRODUCER_ID)', () => {
    const psm = new ProducerStateManager();
    expect(psm.checkClientAppend(clientBatch(['a'], { producerId: 9, producerEpoch: 3, baseSequence: 42 }))).toEqual(OK);
  });

  it('a new epoch must start at sequence 0', () => {
    const { psm } = withBatches([3]);
    expect(psm.checkClientAppend(retry(1, 3, 1))).toEqual(OUT_OF_ORDER);
    expect(psm.checkClientAppend(retry(1, 0, 1))).toEqual(OK);
  });

  it('after an epoch bump, the old epoch is fenced and its batches are forgotten', () => {
    const { psm } = withBatches([3]);
    psm.update(storedBatch(3, 0, 1, { producerId: 1, producerEpoch: 1, baseSequence: 0 }));
    expect(psm.lastEntry(1)).toMatchObject({ producerEpoch: 1, batches: [{ firstSeq: 0, lastSeq: 0, firstOffset: 3, lastOffset: 3 }] });
    expect(psm.checkClientAppend(retry(3, 0, 0))).toEqual(INVALID_EPOCH);
    expect(psm.checkClientAppend(retry(1, 1, 1))).toEqual(OK);
  });

  it('sequences wrap to 0 after Integer.MAX_VALUE', () => {
    const psm = new ProducerStateManager();
    psm.update(storedBatch(0, 0, 1, { producerId: 1, baseSequence: 2_147_483_647 }));
    expect(psm.checkClientAppend(retry(1, 0))).toEqual(OK);
    expect(psm.checkClientAppend(retry(1, 1))).toEqual(OUT_OF_ORDER);
  });

  it('a batch without a producer id is never checked', () => {
    const { psm } = withBatches([3]);
    expect(psm.checkClientAppend(clientBatch(['x']))).toEqual(OK);
  });
});

describe('ProducerStateManager: snapshots', () => {
  it('keep only each producer’s last batch, as Kafka’s snapshot format does', () => {
    const { psm } = withBatches([2, 2, 2]);
    const snapshot = psm.snapshot();
    expect(snapshot).toEqual({
      offset: 6,
      producers: [{ producerId: 1, producerEpoch: 0, lastSequence: 5, lastOffset: 5, offsetDelta: 1, timestampMs: 0 }],
    });
    const reloaded = ProducerStateManager.fromSnapshot(snapshot);
    expect(reloaded.checkClientAppend(retry(2, 4))).toEqual({ kind: 'duplicate', firstOffset: 4, lastOffset: 5 });
    // Still a duplicate in the running broker, no longer after a reload.
    expect(psm.checkClientAppend(retry(2, 2))).toEqual({ kind: 'duplicate', firstOffset: 2, lastOffset: 3 });
    expect(reloaded.checkClientAppend(retry(2, 2))).toEqual(OUT_OF_ORDER);
  });

  it('drop expired producers on load and on removeExpiredProducers', () => {
    const psm = new ProducerStateManager();
    psm.update(storedBatch(0, 0, 1, { producerId: 1, timestampMs: 1_000 }));
    psm.update(storedBatch(1, 0, 1, { producerId: 2, timestampMs: 5_000 }));
    const reloaded = ProducerStateManager.fromSnapshot(psm.snapshot(), { nowMs: 11_000, producerIdExpirationMs: 10_000 });
    expect(reloaded.entries().map((p) => p.producerId)).toEqual([2]);
    expect(psm.removeExpiredProducers(15_000, 10_000)).toBe(2);
    expect(psm.isEmpty()).toBe(true);
  });
});

// ------------------------------------------------------------------------------------------
// Property: rebuilding from a snapshot and replaying the rest gives the state built batch by
// batch, except for the cached batches that predate the snapshot (Kafka keeps one per producer).
// ------------------------------------------------------------------------------------------

interface Step {
  readonly producer: number; // 0 = no producer id
  readonly bumpEpoch: boolean;
  readonly count: number;
}

const stepArb: fc.Arbitrary<Step> = fc.record({
  producer: fc.integer({ min: 0, max: 3 }),
  bumpEpoch: fc.boolean(),
  count: fc.integer({ min: 1, max: 3 }),
});

/** The batches a log would hold after these appends: contiguous offsets, per-producer sequences. */
function batchesOf(steps: readonly Step[]): RecordBatch[] {
  const state = new Map<number, { epoch: number; sequence: number }>();
  const batches: RecordBatch[] = [];
  let offset = 0;
  for (const step of steps) {
    if (step.producer === 0) {
      batches.push(storedBatch(offset, 0, step.count, { timestampMs: offset }));
    } else {
      const s = state.get(step.producer) ?? { epoch: 0, sequence: 0 };
      if (step.bumpEpoch) state.set(step.producer, { epoch: s.epoch + 1, sequence: 0 });
      const current = state.get(step.producer) ?? s;
      batches.push(storedBatch(offset, 0, step.count, { producerId: step.producer, producerEpoch: current.epoch, baseSequence: current.sequence, timestampMs: offset }));
      state.set(step.producer, { epoch: current.epoch, sequence: current.sequence + step.count });
    }
    offset += step.count;
  }
  return batches;
}

describe('ProducerStateManager: rebuild (property)', () => {
  it('replaying every batch equals the state built incrementally', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 40 }), (steps) => {
        const batches = batchesOf(steps);
        const incremental = new ProducerStateManager();
        for (const batch of batches) incremental.update(batch);
        const rebuilt = new ProducerStateManager(999);
        rebuilt.rebuild(batches, undefined, 0);
        expect(rebuilt.entries()).toEqual(incremental.entries());
        expect(rebuilt.mapEndOffset).toBe(incremental.mapEndOffset);
      }),
      { numRuns: 200 },
    );
  });

  it('snapshot at any batch boundary + replay equals the incremental state (modulo batches cached before the snapshot)', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 40 }), fc.nat(), (steps, cut) => {
        const batches = batchesOf(steps);
        const split = cut % (batches.length + 1);
        const incremental = new ProducerStateManager();
        for (const batch of batches.slice(0, split)) incremental.update(batch);
        const snapshot = incremental.snapshot();
        for (const batch of batches.slice(split)) incremental.update(batch);

        const rebuilt = new ProducerStateManager();
        rebuilt.rebuild(batches, snapshot, 0);
        expect(rebuilt.snapshot()).toEqual(incremental.snapshot());
        expect(rebuilt.mapEndOffset).toBe(batches.length === 0 ? 0 : nextOffset(batches[batches.length - 1]));
        const full = new Map(incremental.entries().map((e) => [e.producerId, e]));
        for (const entry of rebuilt.entries()) {
          const reference = full.get(entry.producerId);
          expect(reference).toBeDefined();
          expect(entry.producerEpoch).toBe(reference?.producerEpoch);
          // What the rebuilt state caches is the newest part of what the incremental state caches.
          expect(entry.batches).toEqual(reference?.batches.slice(reference.batches.length - entry.batches.length));
        }
      }),
      { numRuns: 300 },
    );
  });
});
