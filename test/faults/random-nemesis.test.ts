import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbitraries } from '../../src/index.js';
import { drawFaultSchedule, faultAction, faultScheduleArbitrary, faultsYaml, NEMESIS_KINDS, toScenarioFaults, type FaultScheduleOptions, type FaultSpec } from '../../src/faults/random-nemesis.js';
import { loadScenario } from '../../src/scenario/load.js';

const dir = mkdtempSync(join(tmpdir(), 'kafkaesque-nemesis-'));
let n = 0;

const kafka: FaultScheduleOptions = {
  brokers: 3,
  partitions: ['orders-0', 'orders-1'],
  producers: true,
  kinds: [...NEMESIS_KINDS],
  meanIntervalMs: 2_000,
  maxFaults: 8,
  maxDurationMs: 5_000,
  window: { startMs: 1_000, stopMs: 20_000 },
};
const base = `name: k
duration: 20s
cluster: { brokers: 3 }
topics: [{ name: orders, partitions: 2, replication.factor: 3 }]
producers: [{ topic: orders, rate: 10/s }]
`;

/** Writes a schedule as scenario YAML and loads it back, as `run counterexample.yaml` would. */
function roundTrip(faults: readonly FaultSpec[], head = base): FaultSpec[] {
  const p = join(dir, `s${n++}.yaml`);
  writeFileSync(p, `${head}faults:\n${faultsYaml(faults, '  ')}\n`);
  return (loadScenario(p).faults ?? []) as FaultSpec[];
}

describe('random fault schedules', () => {
  it('are a function of the seed: the same seed draws the same schedule, other seeds others', () => {
    const a = drawFaultSchedule(kafka, 42);
    expect(drawFaultSchedule(kafka, 42)).toEqual(a);
    const distinct = new Set(Array.from({ length: 20 }, (_, i) => JSON.stringify(drawFaultSchedule(kafka, i))));
    expect(distinct.size).toBeGreaterThan(15);
    // Seeds beyond 32 bits are not folded onto small ones.
    expect(drawFaultSchedule(kafka, 2 ** 32 + 42)).not.toEqual(a);
  });

  it('print as scenario YAML that loads back to exactly the same faults', () => {
    fc.assert(
      fc.property(faultScheduleArbitrary(kafka), (faults) => {
        expect(roundTrip(faults)).toEqual(faults);
      }),
      { numRuns: 60 },
    );
  });

  it('stay inside the window, in time order, each timed fault over before the window ends', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), (seed) => {
        const faults = drawFaultSchedule(kafka, seed);
        expect(faults.length).toBeLessThanOrEqual(kafka.maxFaults as number);
        let last = 0;
        for (const f of faults) {
          expect(f.at).toBeGreaterThanOrEqual(kafka.window.startMs * 1000);
          expect(f.at + (f.for ?? 0)).toBeLessThanOrEqual(kafka.window.stopMs * 1000);
          expect(f.at).toBeGreaterThanOrEqual(last);
          if (f.for !== undefined) expect(f.for).toBeLessThanOrEqual((kafka.maxDurationMs as number) * 1000);
          last = f.at;
        }
      }),
      { numRuns: 200 },
    );
  });

  it('draw only the kinds allowed, and swarm: each seed turns on its own subset of them', () => {
    const subsets = new Map<string, number>();
    for (let seed = 0; seed < 300; seed++) {
      const kinds = new Set(drawFaultSchedule(kafka, seed).map(faultAction));
      for (const k of kinds) expect(NEMESIS_KINDS as readonly string[]).toContain(k);
      if (kinds.size > 0) subsets.set([...kinds].sort().join(','), (subsets.get([...kinds].sort().join(',')) ?? 0) + 1);
    }
    // Many different mixes, and single-kind schedules among them.
    expect(subsets.size).toBeGreaterThan(30);
    expect([...subsets.keys()].filter((k) => !k.includes(',')).length).toBeGreaterThanOrEqual(4);
    const onlyPause = drawFaultSchedule({ ...kafka, kinds: ['pause'] }, 3);
    expect(onlyPause.every((f) => f.pause !== undefined)).toBe(true);
  });

  it('vary their intensity from seed to seed', () => {
    const counts = Array.from({ length: 100 }, (_, seed) => drawFaultSchedule({ ...kafka, maxFaults: 20 }, seed).length);
    expect(Math.max(...counts) - Math.min(...counts)).toBeGreaterThan(8);
  });

  it('name only broker ids when the scenario has no Kafka model, and never split a lone broker', () => {
    const demo: FaultScheduleOptions = { brokers: 3, kinds: [...NEMESIS_KINDS], window: { startMs: 0, stopMs: 10_000 } };
    const head = 'name: d\nduration: 10s\ncluster: { brokers: 3 }\n';
    for (let seed = 0; seed < 40; seed++) {
      const faults = drawFaultSchedule(demo, seed);
      expect(JSON.stringify(faults)).not.toMatch(/leader|follower|controller|others|producers/);
      expect(roundTrip(faults, head)).toEqual(faults);
    }
    const lone = drawFaultSchedule({ brokers: 1, kinds: ['partition'], window: { startMs: 0, stopMs: 10_000 } }, 1);
    expect(lone).toEqual([]);
  });

  it('refuse options that cannot draw anything sensible', () => {
    expect(() => faultScheduleArbitrary({ ...kafka, kinds: [] })).toThrow(/at least one/);
    expect(() => faultScheduleArbitrary({ ...kafka, window: { startMs: 5, stopMs: 5 } })).toThrow(/window/);
    expect(() => faultScheduleArbitrary({ ...kafka, brokers: 0 })).toThrow(/brokers/);
  });

  it('convert microseconds to scenario durations exactly', () => {
    expect(toScenarioFaults([{ at: 3_200_000, for: 250_000, crash: 'leader(orders-0)' }])).toEqual([{ at: '3.2s', crash: 'leader(orders-0)', for: '250ms' }]);
    expect(faultsYaml([{ at: 1_000_000, partition: [['leader(orders-0)', 'producers'], ['others']], for: 9_000_000 }])).toBe('- { at: 1s, partition: [[leader(orders-0), producers], [others]], for: 9s }');
  });
});

describe('the exported arbitraries', () => {
  it('faultSchedule gives scenario faults: entries that the loader accepts', () => {
    fc.assert(
      fc.property(arbitraries.faultSchedule({ brokers: 3, partitions: ['orders-0'], producers: true, window: { startMs: 1_000, stopMs: 20_000 } }), (faults) => {
        const s = loadScenario({ name: 'a', duration: '20s', cluster: { brokers: 3 }, topics: [{ name: 'orders', partitions: 1, 'replication.factor': 3 }], producers: [{ topic: 'orders', rate: '10/s' }], faults });
        expect(s.faults).toHaveLength(faults.length);
      }),
      { numRuns: 50 },
    );
  });

  it('clusterConfig and producerConfig give sections the loader accepts; safe ones only safe values', () => {
    fc.assert(
      fc.property(arbitraries.clusterConfig({ safe: false }), arbitraries.producerConfig(), (cluster, config) => {
        loadScenario({ name: 'c', cluster, topics: [{ name: 't', partitions: 1, 'replication.factor': Math.min(3, cluster.brokers) }], producers: [{ topic: 't', rate: '1/s', config }] });
      }),
      { numRuns: 100 },
    );
    fc.assert(
      fc.property(arbitraries.clusterConfig(), arbitraries.producerConfig({ safe: true }), (cluster, config) => {
        expect(cluster.config['min.insync.replicas']).toBe(2);
        expect(cluster.config['unclean.leader.election.enable']).toBe(false);
        expect(config.acks).toBe('all');
      }),
      { numRuns: 50 },
    );
    const unsafe = fc.sample(arbitraries.clusterConfig({ safe: false }), { seed: 1, numRuns: 200 });
    expect(unsafe.some((c) => c.config['unclean.leader.election.enable'])).toBe(true);
    expect(unsafe.some((c) => c.config['min.insync.replicas'] === 1)).toBe(true);
  });
});
