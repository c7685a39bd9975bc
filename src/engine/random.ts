import seedrandom from 'seedrandom';
import { SimulationError } from './errors.js';

/**
 * A seeded random stream. Every draw in the simulator comes from one of these, never from the
 * platform's unseeded generator. Streams are forked by name (`rng.fork('net')`): a child's seed is derived from
 * its parent's seed and its name only, not from how many draws the parent made, so adding a
 * component or a draw in one place does not perturb any other component's draws.
 *
 * The generator is Alea (seedrandom.alea): about 7 ns a draw against ARC4's 72 ns, and its
 * state is small, so forking thousands of streams is cheap.
 */
export class Random {
  private readonly next: () => number;
  private spareNormal = NaN;

  constructor(readonly seed: string) {
    this.next = seedrandom.alea(seed);
  }

  /** A root stream for a run's seed (a number or a string). */
  static fromSeed(seed: number | string): Random {
    if (typeof seed === 'number' && !Number.isFinite(seed)) {
      throw new SimulationError(`seed must be a finite number or a string, got ${String(seed)}`);
    }
    return new Random(`kafkaesque:${String(seed)}`);
  }

  /** An independent child stream named `name`. The same name always gives the same stream. */
  fork(name: string): Random {
    // The length prefix keeps fork('a/b') apart from fork('a').fork('b').
    return new Random(`${this.seed}/${name.length}:${name}`);
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.next();
  }

  /** Uniform in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** A uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min) {
      throw new SimulationError(`int(min, max) needs integers with min ≤ max, got ${min}, ${max}`);
    }
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Exponential with the given mean (inverse transform; 1 - u keeps log away from 0). */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /** Normal (Box–Muller; the second variate is kept for the next call). */
  normal(mean: number, stdDev: number): number {
    let z = this.spareNormal;
    if (Number.isNaN(z)) {
      const u1 = 1 - this.next();
      const u2 = this.next();
      const r = Math.sqrt(-2 * Math.log(u1));
      z = r * Math.cos(2 * Math.PI * u2);
      this.spareNormal = r * Math.sin(2 * Math.PI * u2);
    } else {
      this.spareNormal = NaN;
    }
    return mean + stdDev * z;
  }

  /** Log-normal: exp(N(mu, sigma)). */
  logNormal(mu: number, sigma: number): number {
    return Math.exp(this.normal(mu, sigma));
  }

  /** Pareto (type I) with minimum `scale` and tail index `shape`: heavy tails for latency. */
  pareto(scale: number, shape: number): number {
    return scale / Math.pow(1 - this.next(), 1 / shape);
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new SimulationError('pick() from an empty array');
    return items[Math.floor(this.next() * items.length)];
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffled<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = out[i];
      out[i] = out[j];
      out[j] = tmp;
    }
    return out;
  }
}
