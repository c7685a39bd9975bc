import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loadScenario } from '../../src/scenario/load.js';
import { simulate } from '../../src/scenario/simulate.js';

/*
 * Consumer-group properties over random faults, through scenario files (issue 6):
 * - no partition is ever given to two members of one generation (no-double-assignment), with the
 *   eager and the cooperative protocol, under member kills, stalls and broker crashes;
 * - with commits after processing, every acknowledged record is processed at least once once the
 *   faults heal: no unseen record, no lost processing (duplicates are at-least-once's price).
 */

const LONG = process.env.KAFKAESQUE_LONG !== undefined && process.env.KAFKAESQUE_LONG !== '';

type Fault = { atMs: number; kind: 'kill-consumer' | 'stall-consumer' | 'crash-broker' | 'isolate-consumer'; n: number; forMs: number };

const faultArb: fc.Arbitrary<Fault> = fc.record({
  atMs: fc.integer({ min: 2_000, max: 9_000 }),
  kind: fc.constantFrom('kill-consumer' as const, 'stall-consumer' as const, 'crash-broker' as const, 'isolate-consumer' as const),
  n: fc.integer({ min: 1, max: 3 }),
  forMs: fc.integer({ min: 200, max: 8_000 }),
});

function scenario(strategy: string, faults: readonly Fault[]) {
  const scripted = faults
    .filter((f) => f.kind !== 'stall-consumer')
    .map((f) => {
      const target = f.kind === 'crash-broker' ? f.n : `consumer(billing/${f.n})`;
      const kind = f.kind === 'kill-consumer' ? 'kill' : f.kind === 'crash-broker' ? 'crash' : 'isolate';
      return { at: `${f.atMs}ms`, [kind]: target, for: `${f.forMs}ms` };
    });
  // One stall per run at most (the stall is a property of the consumer's application).
  const stall = faults.find((f) => f.kind === 'stall-consumer');
  return loadScenario({
    name: 'consumer-property',
    duration: '10s',
    cluster: {
      brokers: 3,
      controllers: 1,
      config: { 'min.insync.replicas': 2, 'offsets.topic.num.partitions': 3, 'group.initial.rebalance.delay.ms': 0, 'broker.session.timeout.ms': 3000, 'broker.heartbeat.interval.ms': 500 },
    },
    topics: [{ name: 'orders', partitions: 4, 'replication.factor': 3 }],
    producers: [{ topic: 'orders', rate: '50/s', keys: 16 }],
    consumers: [
      {
        group: 'billing',
        count: 3,
        topics: ['orders'],
        config: { 'enable.auto.commit': false, 'auto.offset.reset': 'earliest', 'partition.assignment.strategy': strategy, 'session.timeout.ms': 6000, 'heartbeat.interval.ms': 1000, 'max.poll.interval.ms': 5000 },
        processing: { ms: 2, commit: 'sync-after-processing', ...(stall !== undefined ? { stall: { at: `${stall.atMs}ms`, for: `${stall.forMs}ms` } } : {}) },
      },
    ],
    faults: scripted,
    expect: [],
  });
}

describe('consumer groups under random faults', () => {
  for (const strategy of ['range', 'cooperative-sticky']) {
    it(`never give one partition to two members of a generation, and process every acknowledged record at least once (${strategy})`, () => {
      let polled = 0;
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.array(faultArb, { maxLength: 4 }), (seed, faults) => {
          const r = simulate(scenario(strategy, faults), { seed });
          polled += r.stats.recordsPolled;
          const checks = new Set(r.violations.map((v) => v.check));
          expect([...checks].filter((c) => c !== 'duplicate-processing')).toEqual([]);
        }),
        { numRuns: LONG ? 200 : 12, seed: 6 },
      );
      expect(polled).toBeGreaterThan(1_000);
    });
  }
});
