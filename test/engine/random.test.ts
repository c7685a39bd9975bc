import { describe, expect, it } from 'vitest';
import { Random } from '../../src/engine/random.js';
import { SimulationError } from '../../src/engine/errors.js';

function sample(n: number, draw: () => number): number[] {
  return Array.from({ length: n }, draw);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))];

describe('Random streams', () => {
  it('reproduces a stream from its seed', () => {
    const a = Random.fromSeed(42);
    const b = Random.fromSeed(42);
    expect(sample(100, () => a.float())).toEqual(sample(100, () => b.float()));
  });

  it('forks streams that depend only on the parent seed and the name', () => {
    const parent = Random.fromSeed('s');
    const before = parent.fork('disk').float();
    parent.float();
    parent.fork('net').float();
    expect(parent.fork('disk').float()).toBe(before);
    expect(Random.fromSeed('s').fork('disk').float()).toBe(before);
    expect(parent.fork('net').float()).not.toBe(before);
  });

  it('draws distributions with the right central values', () => {
    const r = Random.fromSeed(3);
    const n = 40_000;
    expect(mean(sample(n, () => r.exponential(5)))).toBeCloseTo(5, 0);
    const normals = sample(n, () => r.normal(10, 2));
    expect(mean(normals)).toBeCloseTo(10, 1);
    expect(Math.sqrt(mean(normals.map((x) => (x - 10) ** 2)))).toBeCloseTo(2, 1);
    expect(quantile(sample(n, () => r.logNormal(Math.log(4), 0.5)), 0.5)).toBeCloseTo(4, 0);
    const pareto = sample(n, () => r.pareto(1, 3));
    expect(Math.min(...pareto)).toBeGreaterThanOrEqual(1);
    expect(mean(pareto)).toBeCloseTo(1.5, 0); // shape/(shape-1)
    const ints = sample(n, () => r.int(1, 6));
    expect(new Set(ints)).toEqual(new Set([1, 2, 3, 4, 5, 6]));
    expect(mean(ints)).toBeCloseTo(3.5, 1);
  });

  it('shuffles to a permutation and picks members', () => {
    const r = Random.fromSeed(1);
    const xs = [1, 2, 3, 4, 5, 6, 7, 8];
    expect([...r.shuffled(xs)].sort()).toEqual(xs);
    expect(xs).toContain(r.pick(xs));
  });

  it('rejects bad arguments', () => {
    const r = Random.fromSeed(1);
    expect(() => r.int(5, 1)).toThrow(SimulationError);
    expect(() => r.int(0.5, 1)).toThrow(SimulationError);
    expect(() => r.pick([])).toThrow(SimulationError);
    expect(() => Random.fromSeed(Infinity)).toThrow(SimulationError);
  });
});

describe('Random fork names', () => {
  it('keeps nested forks apart from names containing the separator', () => {
    const r = Random.fromSeed(9);
    expect(r.fork('a/b').float()).not.toBe(r.fork('a').fork('b').float());
  });
});
