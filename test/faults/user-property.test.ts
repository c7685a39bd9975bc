// The README's example of a user's own property test, run as it is written there
// (section "Property tests of your own"), so the example is known to work.
import { fc, test } from '@fast-check/vitest';
import { expect } from 'vitest';
import { arbitraries, loadScenario, simulate } from 'kafkaesque';

const cluster = arbitraries.clusterConfig({ minBrokers: 3, maxBrokers: 3, maxControllers: 1, timing: false });
const faults = arbitraries.faultSchedule({
  brokers: 3,
  partitions: ['orders-0'],
  producers: true,
  kinds: ['crash', 'pause', 'partition'],
  maxFaults: 3,
  window: { startMs: 1_000, stopMs: 8_000 },
});

// numRuns and seed keep CI short and repeatable; drop `seed` to draw new cases on every run.
test.prop([cluster, faults, fc.integer({ min: 1, max: 1_000_000 })], { numRuns: 3, seed: 2024 })(
  'acks=all with min.insync.replicas=2 never loses an acknowledged write',
  (cluster, faults, seed) => {
    const scenario = loadScenario({
      name: 'my-property',
      duration: '8s',
      cluster,
      topics: [{ name: 'orders', partitions: 1, 'replication.factor': 3 }],
      producers: [{ topic: 'orders', rate: '50/s', config: { acks: 'all' } }],
      faults,
    });
    const result = simulate(scenario, { seed });
    expect(result.violations.filter((v) => v.check === 'lost-write')).toEqual([]);
    expect(result.stats.recordsAcked).toBeGreaterThan(0);
  },
);
