import { describe, expect, it } from 'vitest';
import { ZipfDistribution, type WorkloadSpec } from '../../../src/kafka/client/producer/workload.js';
import { ProducerCluster } from '../support/producer-cluster.js';

/** Runs one producer driving `spec` for `ms` (end excluded) and returns its sends (with their local send times). */
function drive(spec: Omit<WorkloadSpec, 'topic'>, ms: number, seed = 5) {
  const c = new ProducerCluster({ seed, brokers: 1, topics: [{ name: 'orders', partitions: 4, replicationFactor: 1 }] });
  c.awaitLeaders();
  const id = c.addProducer({ workloads: [{ topic: 'orders', ...spec }] });
  const startMs = c.world.nowUs / 1000;
  c.runForMs(ms - 0.5);
  return { c, sends: c.producer(id).sends, startMs };
}

describe('workload rates', () => {
  it('constant: one send every 1000/perSec ms from the start', () => {
    const { sends } = drive({ rate: { kind: 'constant', perSec: 100 } }, 1000);
    expect(sends.length).toBe(100);
    const gaps = sends.slice(1).map((h, i) => h.sentAtMs - sends[i].sentAtMs);
    expect(new Set(gaps)).toEqual(new Set([10]));
  });

  it('poisson: exponential gaps, the count near perSec × seconds', () => {
    const { sends } = drive({ rate: { kind: 'poisson', perSec: 200 } }, 10_000);
    expect(sends.length).toBe(1964);
    const gaps = sends.slice(1).map((h, i) => h.sentAtMs - sends[i].sentAtMs);
    // Exponential: the standard deviation is about the mean (5 ms); a constant rate would have 0.
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length);
    expect(mean).toBeGreaterThan(4.8);
    expect(mean).toBeLessThan(5.2);
    expect(sd).toBeGreaterThan(4);
  });

  it('bursts: perSec during onMs, silent for offMs', () => {
    const { sends, startMs } = drive({ rate: { kind: 'bursts', perSec: 100, onMs: 100, offMs: 400 } }, 1000);
    expect(sends.length).toBe(20);
    const phases = sends.map((h) => Math.floor((h.sentAtMs - Math.floor(startMs)) / 100) % 5);
    expect(new Set(phases)).toEqual(new Set([0]));
  });

  it('stops at stopMs or maxRecords, whichever comes first', () => {
    expect(drive({ rate: { kind: 'constant', perSec: 100 }, stopMs: 300 }, 1000).sends.length).toBe(30);
    expect(drive({ rate: { kind: 'constant', perSec: 100 }, maxRecords: 7 }, 1000).sends.length).toBe(7);
  });
});

describe('workload keys and values', () => {
  it('values are unique, prefixed by the producer, padded to their size', () => {
    const { sends } = drive({ rate: { kind: 'constant', perSec: 100 }, valueBytes: { kind: 'fixed', bytes: 24 } }, 200);
    expect(sends.map((h) => h.value).slice(0, 2)).toEqual(['producer-1/0:0..........', 'producer-1/0:1..........']);
    expect(new Set(sends.map((h) => h.value)).size).toBe(sends.length);
    expect(sends.every((h) => h.value.length === 24)).toBe(true);
  });

  it('uniform value sizes stay within bounds', () => {
    const { sends } = drive({ rate: { kind: 'constant', perSec: 1000 }, valueBytes: { kind: 'uniform', minBytes: 20, maxBytes: 60 } }, 500);
    const sizes = sends.map((h) => h.value.length);
    expect(Math.min(...sizes)).toBe(20);
    expect(Math.max(...sizes)).toBe(60);
  });

  it('no keys by default; uniform keys cover all N keys about equally', () => {
    expect(drive({ rate: { kind: 'constant', perSec: 100 } }, 100).sends.every((h) => h.key === null)).toBe(true);
    const { sends } = drive({ rate: { kind: 'constant', perSec: 1000 }, keys: { kind: 'uniform', count: 4 } }, 2000);
    const counts = [0, 1, 2, 3].map((k) => sends.filter((h) => h.key === `key-${k}`).length);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(2000);
    for (const n of counts) expect(Math.abs(n - 500)).toBeLessThan(60);
  });

  it('zipf keys make key-0 the hot key, with the frequencies of Zipf(s)', () => {
    const { sends } = drive({ rate: { kind: 'constant', perSec: 1000 }, keys: { kind: 'zipf', count: 10, s: 1.2 } }, 5000);
    const zipf = new ZipfDistribution(10, 1.2);
    const share = (k: number) => sends.filter((h) => h.key === `key-${k}`).length / sends.length;
    expect(share(0)).toBeCloseTo(zipf.probability(0), 1);
    expect(share(0)).toBeGreaterThan(share(1));
    expect(share(1)).toBeGreaterThan(share(5));
  });

  it('ZipfDistribution: P(k) ∝ 1/(k+1)^s, sampled by inverse transform', () => {
    const z = new ZipfDistribution(3, 1);
    expect([0, 1, 2].map((k) => z.probability(k))).toEqual([6 / 11, 3 / 11, 2 / 11].map((p) => expect.closeTo(p, 12)));
    expect([0, 0.5, 0.6, 0.82, 0.999].map((u) => z.sample(u))).toEqual([0, 0, 1, 2, 2]);
    expect(() => new ZipfDistribution(0, 1)).toThrow('zipf: count must be an integer in [1, 1000000], got 0');
  });

  it('is deterministic: the same seed gives the same sends', () => {
    const spec: Omit<WorkloadSpec, 'topic'> = { rate: { kind: 'poisson', perSec: 300 }, keys: { kind: 'zipf', count: 5, s: 1 } };
    const a = drive(spec, 1000, 9).sends.map((h) => `${h.sentAtMs}:${h.key}:${h.partition}`);
    const b = drive(spec, 1000, 9).sends.map((h) => `${h.sentAtMs}:${h.key}:${h.partition}`);
    expect(a).toEqual(b);
    expect(drive(spec, 1000, 10).sends.map((h) => `${h.sentAtMs}:${h.key}`)).not.toEqual(a.map((s) => s.split(':').slice(0, 2).join(':')));
  });

  it('refuses bad specs with a clear message', () => {
    const c = new ProducerCluster({ seed: 1, brokers: 1 });
    expect(() => c.addProducer({ workloads: [{ topic: 'orders', rate: { kind: 'constant', perSec: 0 } }] })).toThrow('workload: rate.perSec must be a positive number, got 0');
  });
});
