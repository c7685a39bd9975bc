import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CONTROLLER_ID, TestCluster } from '../support/cluster.js';

/** One fault in a random schedule: what, on which node, when, and for how long. */
export interface Fault {
  atMs: number;
  kind: 'crash' | 'pause' | 'isolate';
  target: number;
  forMs: number;
}

const faultArb: fc.Arbitrary<Fault> = fc.record({
  atMs: fc.integer({ min: 3_000, max: 40_000 }),
  kind: fc.constantFrom('crash' as const, 'pause' as const, 'isolate' as const),
  target: fc.constantFrom(1, 2, 3, 1, 2, 3, CONTROLLER_ID),
  forMs: fc.integer({ min: 100, max: 15_000 }),
});

/**
 * Runs Kafka's safe configuration (acks=all, RF=3, min.insync.replicas=2, unclean election off,
 * today's protocol) under a random schedule of crashes, pauses and isolations, then heals
 * everything and lets it settle. Returns what was lost and what the invariants saw.
 */
export function runSafe(seed: number, faults: readonly Fault[], controllers = 1) {
  const c = new TestCluster({
    seed,
    controllers,
    acks: -1,
    topic: { name: 'orders', partitions: 1, replicationFactor: 3, config: { 'min.insync.replicas': 2 } },
    brokerConfig: { 'request.timeout.ms': 30_000 },
  });
  const invariants = c.checkInvariants();
  const timeline = [...faults].sort((x, y) => x.atMs - y.atMs);
  const undo: { atMs: number; run: () => void }[] = [];
  let next = 0;
  let value = 0;
  for (let t = 0; t < 45_000; t += 200) {
    while (next < timeline.length && timeline[next].atMs <= t) {
      const f = timeline[next++];
      const m = c.world.machine(f.target);
      if (f.kind === 'crash') {
        m.crash();
        undo.push({ atMs: t + f.forMs, run: () => m.start() });
      } else if (f.kind === 'pause') {
        m.pause();
        undo.push({ atMs: t + f.forMs, run: () => m.resume() });
      } else {
        c.world.network.isolate(f.target);
        undo.push({ atMs: t + f.forMs, run: () => c.world.network.rejoin(f.target) });
      }
    }
    for (const u of undo.filter((u) => u.atMs <= t)) u.run();
    undo.splice(0, undo.length, ...undo.filter((u) => u.atMs > t));
    if (t >= 3_000) {
      if (t % 1_000 === 0) c.producer().refreshMetadata();
      c.producer().send(0, `v${value++}`);
    }
    c.runForMs(200);
  }
  // Heal: every machine up, the network whole, then time to settle.
  c.world.network.heal();
  for (const m of c.world.machines()) {
    if (m.state === 'paused') m.resume();
    if (m.state === 'stopped') m.start();
  }
  c.runForMs(60_000);
  return { c, lost: c.lostWrites(), violations: invariants.violations, acked: c.producer().outcomes.filter((o) => o.status === 'ok').length };
}

const RUNS = Number(process.env.KAFKAESQUE_SAFETY_RUNS ?? (process.env.KAFKAESQUE_LONG ? 2_000 : 250));

const quorumFaultArb: fc.Arbitrary<Fault> = fc.record({
  atMs: fc.integer({ min: 3_000, max: 40_000 }),
  kind: fc.constantFrom('crash' as const, 'pause' as const, 'isolate' as const),
  target: fc.constantFrom(1, 2, 3, CONTROLLER_ID, CONTROLLER_ID + 1, CONTROLLER_ID + 2),
  forMs: fc.integer({ min: 100, max: 15_000 }),
});

describe('safety: the safe configuration under random crashes, pauses and isolations', () => {
  for (const [controllers, faults] of [
    [1, faultArb],
    [3, quorumFaultArb],
  ] as const) {
    it(`never loses an acknowledged write and never breaks a replication invariant (${controllers} controller${controllers > 1 ? 's' : ''})`, () => {
      let acked = 0;
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.array(faults, { maxLength: 8 }), (seed, schedule) => {
          const r = runSafe(seed, schedule, controllers);
          acked += r.acked;
          expect(r.violations).toEqual([]);
          expect(r.lost).toEqual([]);
        }),
        { numRuns: RUNS },
      );
      // The property means something only if writes were acknowledged along the way.
      expect(acked).toBeGreaterThan(1_000);
    });
  }
});
